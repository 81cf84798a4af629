import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AppRouter } from "@reco/api-router";
import { openDatabase, type Database } from "@reco/db";
import { assignVariant, parseExperimentDefinition } from "@reco/experiments";
import { ApiKeyStore } from "@reco/serving";
import { createScratchDatabase, freePort, waitFor, type ScratchDatabase } from "@reco/testkit";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const baseDatabaseUrl = process.env.DATABASE_URL;
if (!baseDatabaseUrl) {
  throw new Error(
    "the experiments end-to-end test runs two api processes on one real PostgreSQL database, but DATABASE_URL is not set: " +
      'run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first.',
  );
}
const adminUrl: string = baseDatabaseUrl;
const apiMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/main.ts");

/**
 * The simulation. 1,000 users split 50/50; control clicks with p = 0.10, treatment with p = 0.30
 * (+200 % relative). With ~500 users per arm the uplift's delta-method standard error is ≈ 0.45,
 * so the true effect sits ≈ 4.4 standard errors from 0. Run through computeResults with the same
 * users and 2,000 different click seeds, this design declared b the winner (sequential mode,
 * always-valid interval above 0) in all 2,000; the click draws here come from one fixed seed, so
 * the outcome is also the same on every run.
 */
const USERS = 1_000;
const CLICK_PROBABILITY = { a: 0.1, b: 0.3 } as const;
const CLICK_SEED = 20_261_123;

/** mulberry32: small, seeded, good enough for simulated coin flips. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface ApiProcess {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

/** src/main.ts as a child process on `databaseUrl`; resolves once it listens. */
async function startApi(databaseUrl: string): Promise<ApiProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "api-e2e-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    // the simulation sends a few thousand requests with one client key
    RATE_LIMIT_RPS: "1000000",
    RATE_LIMIT_BURST: "1000000",
  };
  // in-memory cache and the file-log bus: this test is about the database both processes share
  delete env.REDIS_URL;
  delete env.KAFKA_BROKERS;
  const child = spawn(process.execPath, ["--import", "tsx", apiMain], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`api did not listen within 60 s:\n${output}`)),
      60_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("api listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`api exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, dataDir };
}

async function stopApi(api: ApiProcess | undefined): Promise<void> {
  if (!api) return;
  if (api.child.exitCode === null && api.child.signalCode === null) {
    const exited = once(api.child, "exit");
    api.child.kill("SIGTERM");
    const force = setTimeout(() => api.child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(force);
  }
  await rm(api.dataDir, { recursive: true, force: true });
}

function trpc(api: ApiProcess, key?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${api.url}/trpc`,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      }),
    ],
  });
}

async function call(
  api: ApiProcess,
  key: string,
  method: "GET" | "POST",
  url: string,
  body?: unknown,
) {
  const response = await fetch(`${api.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${method} ${url} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs `work` over 0…count-1 with at most `limit` in flight. */
async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

let scratch: ScratchDatabase;
let db: Database;
let apis: ApiProcess[] = [];
let databaseUrl = "";
const keys = { pm: "", viewer: "", client: "" };

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl, "reco_exp_e2e");
  databaseUrl = scratch.url;
  db = await openDatabase({ databaseUrl });
  const store = new ApiKeyStore(db.prisma);
  for (const role of ["pm", "viewer", "client"] as const)
    keys[role] = (await store.create({ name: `e2e ${role}`, role })).key;
  apis = await Promise.all([startApi(databaseUrl), startApi(databaseUrl)]);
}, 120_000);

afterAll(async () => {
  await Promise.all(apis.map(stopApi));
  await db?.close();
  await scratch?.drop();
});

describe("a live experiment through two api processes on one database", () => {
  it("refuses a missing key (401) and a viewer creating (403)", async () => {
    const [first] = apis;
    const input = {
      key: "not-created",
      primaryMetric: "click_through" as const,
      variants: [
        { name: "a", weight: 50, strategy: "default" },
        { name: "b", weight: 50, strategy: "popularity" },
      ],
    };
    for (const [key, status] of [
      [undefined, 401],
      [keys.viewer, 403],
    ] as const) {
      const error = await trpc(first!, key)
        .experiments.create.mutate(input)
        .catch((e) => e);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<AppRouter>).data?.httpStatus).toBe(status);
    }
    expect(await db.prisma.experiment.count()).toBe(0);
  });

  it("lets only one of two overlapping experiments created at once through the two processes in", async () => {
    for (let round = 0; round < 5; round += 1) {
      const create = (api: ApiProcess, key: string, rangeStart: number) =>
        trpc(api, keys.pm).experiments.create.mutate({
          key,
          namespace: `race-${round}`,
          rangeStart,
          rangeEnd: rangeStart + 0.6,
          primaryMetric: "click_through",
          variants: [
            { name: "a", weight: 50, strategy: "default" },
            { name: "b", weight: 50, strategy: "popularity" },
          ],
        });
      const outcomes = await Promise.allSettled([
        create(apis[0]!, `race-${round}-x`, 0),
        create(apis[1]!, `race-${round}-y`, 0.3),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === "rejected")!.reason as Error;
      expect(refused.message).toMatch(/rangeStart: range .* overlaps experiment "race-/);
    }
    await db.prisma.experiment.deleteMany({ where: { namespace: { startsWith: "race-" } } });
  });

  it("assigns stickily across processes and repeated calls, and reports the better variant winning", async () => {
    const [first, second] = apis as [ApiProcess, ApiProcess];
    const created = await trpc(first, keys.pm).experiments.create.mutate({
      key: "e2e-ctr",
      hypothesis: "variant b gets more clicks",
      owner: "pm@example.com",
      primaryMetric: "click_through",
      // the always-valid interval is tightest around the planned 2 × 500 users
      minSampleSize: 500,
      variants: [
        { name: "a", weight: 50, strategy: "default" },
        { name: "b", weight: 50, strategy: "popularity" },
      ],
    });
    // started through the other process: the first has never loaded it as running
    const started = await trpc(second, keys.pm).experiments.start.mutate({ key: "e2e-ctr" });
    expect(started.status).toBe("running");
    const def = parseExperimentDefinition({ ...created, status: "running" });

    const random = seededRandom(CLICK_SEED);
    // one click draw per user, fixed up front so the request interleaving cannot change them
    const clicks = Array.from({ length: USERS }, () => random());
    const tally = { a: { users: 0, clicks: 0 }, b: { users: 0, clicks: 0 } };
    let repeatedChecks = 0;
    await inParallel(USERS, 16, async (i) => {
      const userId = `user-${i}`;
      const [home, other] = i % 2 === 0 ? [first, second] : [second, first];
      const route = `/experiments/e2e-ctr/assignment/${userId}`;
      const fromHome = await call(home, keys.client, "GET", route);
      const fromOther = await call(other, keys.client, "GET", route);
      expect(fromOther.variant).toBe(fromHome.variant);
      // the pure function in this process agrees with both servers
      expect(fromHome.variant).toBe(assignVariant(def, userId).variant);
      expect(fromHome.inExperiment).toBe(true);
      if (i % 10 === 0) {
        repeatedChecks += 1;
        for (const api of [home, other, home])
          expect((await call(api, keys.client, "GET", route)).variant).toBe(fromHome.variant);
      }
      const variant = fromHome.variant as "a" | "b";
      const exposure = await call(home, keys.client, "POST", "/experiments/e2e-ctr/exposures", {
        userId,
      });
      expect(exposure.variant).toBe(variant);
      tally[variant].users += 1;
      if (clicks[i]! < CLICK_PROBABILITY[variant]) {
        // the outcome arrives at the other process: attribution goes through the shared database
        const outcome = await call(other, keys.client, "POST", "/experiments/e2e-ctr/outcomes", {
          userId,
          kind: "click",
        });
        expect(outcome).toMatchObject({ recorded: true, variant });
        tally[variant].clicks += 1;
      }
    });
    expect(repeatedChecks).toBe(USERS / 10);

    const results = await trpc(second, keys.viewer).experiments.results.query({ key: "e2e-ctr" });
    // the results count exactly the users and clicks the simulation sent, through either process
    expect(results.variants.map((v) => v.users)).toEqual([tally.a.users, tally.b.users]);
    const ctr = results.metrics.find((m) => m.metric === "click_through")!;
    expect(ctr.variants.map((v) => v.mean)).toEqual([
      tally.a.clicks / tally.a.users,
      tally.b.clicks / tally.b.users,
    ]);
    expect(results.srm.mismatch).toBe(false);
    expect(results.mode).toBe("sequential");
    const b = ctr.variants.find((v) => v.variant === "b")!.comparison!;
    expect(b.uplift).toBeGreaterThan(0);
    expect(b.sequentialCi[0]).toBeGreaterThan(0);
    expect(b.ci[0]).toBeGreaterThan(0);
    expect(b.significant).toBe(true);
    expect(b.outcome).toBe("better");
    expect(results.outcome).toBe("winner");
    expect(results.winner).toBe("b");
    expect(results.verdict).toMatch(/\bb\b/);

    // both processes answer the same results from the same rows
    const fromFirst = await trpc(first, keys.viewer).experiments.results.query({ key: "e2e-ctr" });
    expect(fromFirst.metrics).toEqual(results.metrics);
  }, 120_000);

  it("gives the same assignments after an api process restarts", async () => {
    const before = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(apis[1]!, keys.client, "GET", `/experiments/e2e-ctr/assignment/user-${i}`),
      ),
    );
    await stopApi(apis[1]);
    apis[1] = await startApi(databaseUrl);
    const after = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(apis[1]!, keys.client, "GET", `/experiments/e2e-ctr/assignment/user-${i}`),
      ),
    );
    expect(after.map((a) => a.variant)).toEqual(before.map((b) => b.variant));
    expect(new Set(after.map((a) => a.variant))).toEqual(new Set(["a", "b"]));
  }, 120_000);

  it("serves the assigned variant in /recommend from both processes", async () => {
    // the serving path learns of starts on its next refresh (every 5 s)
    for (const api of apis)
      await waitFor(
        async () => (await call(api, keys.client, "GET", "/recommend/user-0?k=5")).variant,
        { description: "the running experiment in the serving path" },
      );
    for (let i = 0; i < 20; i += 1) {
      const { variant } = await call(
        apis[0]!,
        keys.client,
        "GET",
        `/experiments/e2e-ctr/assignment/user-${i}`,
      );
      for (const api of apis) {
        const recommendation = await call(api, keys.client, "GET", `/recommend/user-${i}?k=5`);
        expect(recommendation.variant).toBe(variant);
        expect(recommendation.experimentKey).toBe("e2e-ctr");
        // a popularity arm is the treatment itself, not a fallback
        if (variant === "b")
          expect(recommendation).toMatchObject({ modelVersion: "popularity", fallback: false });
      }
    }
  });

  it("keeps assigning from memory while the database is unreachable, and records again once it is back", async () => {
    const api = apis[0]!;
    const route = "/experiments/e2e-ctr/assignment/user-3";
    // Both keys were just checked: while the database is unreachable, authentication answers from
    // these last-known-good lookups (AUTH_STALE_MS, 5 min by default), however long this machine
    // takes to get to the next requests — not from the 5 s cache, which may have expired by then.
    const before = await call(api, keys.client, "GET", route);
    await trpc(api, keys.viewer).experiments.get.query({ key: "e2e-ctr" });
    await scratch.admin.query(`ALTER DATABASE ${scratch.name} WITH ALLOW_CONNECTIONS false`);
    // The apis' sessions (this role's): an autovacuum worker on the database is not ours to end.
    await scratch.admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()",
      [scratch.name],
    );
    try {
      // past the 5 s key cache on purpose: what a loaded machine did to this test before
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      expect((await call(api, keys.client, "GET", route)).variant).toBe(before.variant);
      const exposure = await fetch(`${api.url}/experiments/e2e-ctr/exposures`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys.client}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: "user-3" }),
      });
      // a lost database is a 503 the client may retry, not an internal error
      expect(exposure.status).toBe(503);
      expect(exposure.headers.get("retry-after")).toBe("2");
      expect(await exposure.json()).toMatchObject({ error: { code: "UNAVAILABLE" } });
      const results = await trpc(api, keys.viewer)
        .experiments.results.query({ key: "e2e-ctr" })
        .catch((e: TRPCClientError<AppRouter>) => e);
      expect((results as TRPCClientError<AppRouter>).data?.httpStatus).toBe(503);
    } finally {
      await scratch.admin.query(`ALTER DATABASE ${scratch.name} WITH ALLOW_CONNECTIONS true`);
    }
    const again = await waitFor(
      async () =>
        await call(api, keys.client, "POST", "/experiments/e2e-ctr/exposures", {
          userId: "user-3",
        }),
      { description: "exposures recorded after the database is back", timeoutMs: 20_000 },
    );
    expect(again.variant).toBe(before.variant);
  }, 60_000);
});
