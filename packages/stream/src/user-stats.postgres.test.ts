import { openDatabase, type Database } from "@reco/db";
import { createScratchDatabase, type ScratchDatabase } from "@reco/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { replaceUserHourStats, type ExperimentUserHourRow } from "./user-stats.ts";

// Real PostgreSQL (DATABASE_URL), two connections: two stream workers replacing the same hours.
let scratch: ScratchDatabase;
let workers: Database[] = [];

beforeAll(async () => {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      'DATABASE_URL is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first',
    );
  scratch = await createScratchDatabase(url, "reco_user_hours");
  workers = [
    await openDatabase({ databaseUrl: scratch.url }),
    await openDatabase({ databaseUrl: scratch.url, migrate: false }),
  ];
}, 60_000);
afterAll(async () => {
  for (const db of workers) await db.close();
  await scratch?.drop();
});

const HOUR = Date.parse("2026-01-05T10:00:00Z");
const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
const rows = (exposures: number): ExperimentUserHourRow[] =>
  users.map((userId) => ({
    experimentKey: "exp",
    variant: "a",
    userId,
    hour: new Date(HOUR),
    exposures,
    clicks: 0,
    watches: 0,
    ratingSum: 0,
    ratingCount: 0,
    responses: exposures,
    failures: 0,
    latencySumMs: 10 * exposures,
    firstExposure: new Date(HOUR + 60_000),
  }));

it("two workers replacing the same users' hour at once both succeed, and the totals are the sum of the hour rows left", async () => {
  const range = { from: HOUR, to: HOUR + 3_600_000 };
  for (let round = 0; round < 20; round++) {
    const results = await Promise.allSettled([
      replaceUserHourStats(workers[0]!.prisma, users, range, rows(1)),
      replaceUserHourStats(workers[1]!.prisma, users, range, rows(2)),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);
  }
  const hours = await workers[0]!.prisma.experimentUserHourStat.findMany();
  expect(hours).toHaveLength(users.length);
  const totals = await workers[0]!.prisma.experimentUserStat.findMany();
  const byUser = new Map(hours.map((row) => [row.userId, row.exposures]));
  expect(totals).toHaveLength(users.length);
  for (const total of totals) expect(total.exposures).toBe(byUser.get(total.userId));
}, 60_000);
