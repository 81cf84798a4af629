import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@reco/db";
import { RetrainingRuns } from "@reco/retraining";
import type { Principal } from "@reco/serving";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrpcContext, TrpcServices } from "../context.ts";
import { createCallerFactory } from "../init.ts";
import { appRouter } from "../router.ts";

const key = (role: Principal["role"]): Principal => ({
  keyId: 1,
  prefix: `reco_${role}`,
  name: role,
  role,
});

let dataDir: string;
let db: Database;
let retraining: RetrainingRuns;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "retraining-router-"));
  db = await openDatabase({ dataDir });
  retraining = new RetrainingRuns(db.prisma, { intervalMs: 6 * 3_600_000 });
}, 60_000);
afterAll(async () => {
  await db?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function caller(principal: Principal | null, services: Partial<TrpcServices> = { retraining }) {
  const ctx: TrpcContext = {
    requestId: "test",
    principal,
    invalidKey: false,
    keyStoreDown: false,
    services: {
      stats: {} as TrpcServices["stats"],
      apiKeys: {} as TrpcServices["apiKeys"],
      ...services,
    },
  };
  return createCallerFactory(appRouter)(ctx).retraining;
}

async function refusal(call: Promise<unknown>): Promise<TRPCError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe("retraining procedures", () => {
  it("a viewer or pm key may read but not trigger (403); no key is 401", async () => {
    expect((await refusal(caller(key("viewer")).trigger())).code).toBe("FORBIDDEN");
    expect((await refusal(caller(key("pm")).trigger())).code).toBe("FORBIDDEN");
    expect((await refusal(caller(null).status())).code).toBe("UNAUTHORIZED");
    const status = await caller(key("viewer")).status();
    expect(status).toMatchObject({ intervalMs: 21_600_000, active: null, last: null });
    expect(await db.prisma.trainingRun.count()).toBe(0);
  });

  it("an engineer queues a run as its key; an admin's second trigger answers that same run", async () => {
    const first = await caller(key("engineer")).trigger();
    expect(first).toMatchObject({
      queued: true,
      run: { status: "queued", trigger: "manual", requestedBy: "key:reco_engineer" },
    });
    const second = await caller(key("admin")).trigger();
    expect(second).toMatchObject({ queued: false, run: { id: first.run.id } });
    const runs = await caller(key("viewer")).runs({ limit: 5 });
    expect(runs.map((r) => r.id)).toEqual([first.run.id]);
    expect((await caller(key("viewer")).status()).active?.id).toBe(first.run.id);
  });

  it("answers 503 when the server was built without retraining, after the role check", async () => {
    const error = await refusal(caller(key("admin"), {}).status());
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.message).toBe("retraining is not configured on this server");
    expect((await refusal(caller(key("viewer"), {}).trigger())).code).toBe("FORBIDDEN");
  });
});
