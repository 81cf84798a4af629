/**
 * The api with the models and monitoring routers on a real database: embedded PGlite, or a
 * database of its own on the PostgreSQL server at DATABASE_URL (dropped afterwards).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AppRouter } from "@reco/api-router";
import {
  MetricAggregateRepository,
  ModelVersionStore,
  openDatabase,
  type Database,
} from "@reco/db";
import { ApiKeyStore, createCatalogStats } from "@reco/serving";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { pino } from "pino";
import { buildServer } from "../src/server.ts";
import { createScratchDatabase } from "@reco/testkit";

export type DatabaseKind = "pglite" | "postgres";
export type TestRole = "viewer" | "pm" | "engineer" | "admin" | "client";

export interface TestApi {
  db: Database;
  dataDir: string;
  keys: Record<TestRole, string>;
  client(role?: TestRole): ReturnType<typeof createTRPCClient<AppRouter>>;
  close(): Promise<void>;
}

async function openTestDatabase(kind: DatabaseKind, dataDir: string) {
  if (kind === "pglite") return { db: await openDatabase({ dataDir }), drop: async () => {} };
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    throw new Error(
      'DATABASE_URL is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first',
    );
  }
  const scratch = await createScratchDatabase(baseUrl, "reco_api_models");
  return { db: await openDatabase({ databaseUrl: scratch.url }), drop: scratch.drop };
}

export async function startTestApi(kind: DatabaseKind): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "api-models-"));
  const { db, drop } = await openTestDatabase(kind, dataDir);
  const store = new ApiKeyStore(db.prisma);
  const keys = {} as Record<TestRole, string>;
  for (const role of ["viewer", "pm", "engineer", "admin", "client"] as const)
    keys[role] = (await store.create({ name: role, role })).key;
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: store,
    services: {
      stats: createCatalogStats({ prisma: db.prisma, snapshotsRoot: path.join(dataDir, "s") }),
      apiKeys: store,
      models: new ModelVersionStore(db.prisma),
      monitoring: new MetricAggregateRepository(db.prisma),
    },
    readiness: {},
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    db,
    dataDir,
    keys,
    client: (role?: TestRole) =>
      createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: `${baseUrl}/trpc`,
            headers: role ? { authorization: `Bearer ${keys[role]}` } : {},
          }),
        ],
      }),
    async close() {
      await app.close();
      await db.close();
      await drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The tRPC error a call fails with (the test fails if it succeeds). */
export async function failure(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail");
}
