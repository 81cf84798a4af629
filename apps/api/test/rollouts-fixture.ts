/**
 * The api with the rollouts router on a real embedded database (PGlite), started in-process on
 * port 0, with one key per role and helpers to register model versions. No rollout controller
 * runs: rollouts stay where the calls put them, so versions change only when a test acts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AppRouter } from "@reco/api-router";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { RolloutService } from "@reco/rollouts/store";
import { ApiKeyStore, createCatalogStats } from "@reco/serving";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { pino } from "pino";
import { buildServer } from "../src/server.ts";

export type RolloutTestRole = "viewer" | "pm" | "engineer" | "admin";

export interface RolloutTestApi {
  db: Database;
  url: string;
  keys: Record<RolloutTestRole, string>;
  /** The prefix of each role's key, as the audit log names the actor (`key:<prefix>`). */
  prefixes: Record<RolloutTestRole, string>;
  rollouts: RolloutService;
  client(role?: RolloutTestRole): ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Registers a version row (its artifact is never loaded here) in the given stage. */
  registerVersion(name: string, version: string, stage?: "candidate" | "stable"): Promise<number>;
  close(): Promise<void>;
}

export async function startRolloutsApi(): Promise<RolloutTestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "api-rollouts-"));
  const db = await openDatabase({ dataDir });
  const store = new ApiKeyStore(db.prisma);
  const keys = {} as Record<RolloutTestRole, string>;
  const prefixes = {} as Record<RolloutTestRole, string>;
  for (const role of ["viewer", "pm", "engineer", "admin"] as const) {
    const created = await store.create({ name: `${role} key`, role });
    keys[role] = created.key;
    prefixes[role] = created.prefix;
  }
  const models = new ModelVersionStore(db.prisma);
  const rollouts = new RolloutService(db.prisma, models);
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: store,
    services: {
      stats: createCatalogStats({ prisma: db.prisma, snapshotsRoot: path.join(dataDir, "s") }),
      apiKeys: store,
      models,
      rollouts,
    },
    readiness: {},
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    db,
    url,
    keys,
    prefixes,
    rollouts,
    client: (role?: RolloutTestRole) =>
      createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: `${url}/trpc`,
            headers: role ? { authorization: `Bearer ${keys[role]}` } : {},
          }),
        ],
      }),
    async registerVersion(name, version, stage = "candidate") {
      const id = await models.record({
        name,
        version,
        kind: "popularity",
        artifactPath: path.join(dataDir, "registry", name, version),
        checksum: "0".repeat(64),
      });
      if (stage === "stable")
        await models.setStage({ id }, "stable", { by: "test", reason: "baseline" });
      return id;
    },
    async close() {
      await app.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
