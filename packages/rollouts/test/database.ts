import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { createScratchDatabase, type ScratchDatabase } from "@reco/testkit";
import { rolloutVariant } from "../src/index.ts";

export type DatabaseKind = "pglite" | "postgres";

export interface TestDatabase {
  db: Database;
  models: ModelVersionStore;
  /** postgresql:// URL of the scratch database (postgres only), for child processes. */
  url: string | null;
  close(): Promise<void>;
}

/** A migrated, empty database: PGlite in a temp dir, or a scratch database on DATABASE_URL. */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "postgres") {
    const server = process.env.DATABASE_URL;
    if (!server)
      throw new Error(
        'this suite needs a real PostgreSQL: DATABASE_URL is not set (run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`)',
      );
    const scratch: ScratchDatabase = await createScratchDatabase(server, "rollouts");
    const db = await openDatabase({ databaseUrl: scratch.url });
    return {
      db,
      models: new ModelVersionStore(db.prisma),
      url: scratch.url,
      async close() {
        await db.close();
        await scratch.drop();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "rollouts-"));
  const db = await openDatabase({ dataDir });
  return {
    db,
    models: new ModelVersionStore(db.prisma),
    url: null,
    async close() {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Registers a version row (the artifact is never loaded by these tests). */
export async function registerVersion(
  t: TestDatabase,
  name: string,
  version: string,
  stage: "candidate" | "stable" = "candidate",
): Promise<number> {
  const id = await t.models.record({
    name,
    version,
    kind: "popularity",
    artifactPath: `/registry/${name}/${version}`,
    checksum: "0".repeat(64),
  });
  if (stage === "stable")
    await t.models.setStage({ id }, "stable", { by: "test", reason: "baseline" });
  return id;
}

export interface ArmTraffic {
  users: number;
  exposuresPerUser: number;
  clicksPerUser: (user: number) => number;
  impressionsPerMinute: number;
  failuresPerMinute: number;
  /** Responses per latency bucket in each minute (bucket i: up to 2^(i/4) ms). */
  latencyCounts: number[];
}

/** `n` responses in latency bucket `bucket` (0-based), none elsewhere. */
export const responsesIn = (bucket: number, n: number): number[] => {
  const counts = new Array<number>(bucket + 1).fill(0);
  counts[bucket] = n;
  return counts;
};

/** Equal click-through on both arms: 0.15 per exposure, users with 1 or 2 clicks of 10. */
export const healthyTraffic: ArmTraffic = {
  users: 2_000,
  exposuresPerUser: 10,
  clicksPerUser: (user) => (user % 2) + 1,
  impressionsPerMinute: 1_000,
  failuresPerMinute: 1,
  // bucket 18: (2^(17/4), 2^(18/4)] = (19.0, 22.6] ms, i.e. about 20 ms
  latencyCounts: responsesIn(18, 1_000),
};

/**
 * Writes what the stream worker would have written for a rollout arm: per-minute aggregates for
 * the given minutes and per-user statistics for `users` users (absolute values, as the worker's
 * upserts do).
 */
export async function writeArmData(
  db: Database,
  rolloutId: number,
  arm: "candidate" | "stable",
  minutes: Date[],
  traffic: ArmTraffic,
): Promise<void> {
  await writeArmMinutes(db, rolloutId, arm, minutes, traffic);
  await writeArmUsers(db, rolloutId, arm, traffic);
}

/** The per-minute aggregates alone. */
export async function writeArmMinutes(
  db: Database,
  rolloutId: number,
  arm: "candidate" | "stable",
  minutes: Date[],
  traffic: Omit<ArmTraffic, "users" | "exposuresPerUser" | "clicksPerUser">,
): Promise<void> {
  const variant = rolloutVariant(rolloutId, arm);
  for (const minute of minutes) {
    await db.prisma.metricAggregate.upsert({
      where: {
        minute_versionLabel_experimentKey_variant: {
          minute,
          versionLabel: arm,
          experimentKey: `rollout:${rolloutId}`,
          variant,
        },
      },
      create: {
        minute,
        versionLabel: arm,
        experimentKey: `rollout:${rolloutId}`,
        variant,
        impressions: traffic.impressionsPerMinute,
        errors: traffic.failuresPerMinute,
        latencyCounts: traffic.latencyCounts,
      },
      update: {
        impressions: traffic.impressionsPerMinute,
        errors: traffic.failuresPerMinute,
        latencyCounts: traffic.latencyCounts,
      },
    });
  }
}

/** The per-user statistics alone. */
export async function writeArmUsers(
  db: Database,
  rolloutId: number,
  arm: "candidate" | "stable",
  traffic: Pick<ArmTraffic, "users" | "exposuresPerUser" | "clicksPerUser">,
): Promise<void> {
  const variant = rolloutVariant(rolloutId, arm);
  const rows = Array.from({ length: traffic.users }, (_, user) => ({
    experimentKey: `rollout:${rolloutId}`,
    variant,
    userId: `${arm}-${user}`,
    exposures: traffic.exposuresPerUser,
    clicks: traffic.clicksPerUser(user),
  }));
  await db.prisma.experimentUserStat.deleteMany({
    where: { experimentKey: `rollout:${rolloutId}`, variant },
  });
  for (let i = 0; i < rows.length; i += 1_000)
    await db.prisma.experimentUserStat.createMany({ data: rows.slice(i, i + 1_000) });
}
