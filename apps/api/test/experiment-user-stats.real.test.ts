import { openDatabase, type Database } from "@reco/db";
import { assignVariant, parseExperimentDefinition } from "@reco/experiments";
import { ExperimentService } from "@reco/experiments/store";
import { replaceUserHourStats, type ExperimentUserHourRow } from "@reco/stream";
import { createScratchDatabase, type ScratchDatabase } from "@reco/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

// Real PostgreSQL (DATABASE_URL), two connections: the experiments API recording exposures of
// users while a stream worker rolls the same users' hours up into their totals.
let scratch: ScratchDatabase;
let api: Database;
let worker: Database;

beforeAll(async () => {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      'DATABASE_URL is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first',
    );
  scratch = await createScratchDatabase(url, "reco_user_stats_race");
  api = await openDatabase({ databaseUrl: scratch.url });
  worker = await openDatabase({ databaseUrl: scratch.url, migrate: false });
}, 60_000);
afterAll(async () => {
  await api?.close();
  await worker?.close();
  await scratch?.drop();
});

it("totals stay the sum of a user's hours while API exposures and the stream's rollups of the same users run at once", async () => {
  const experiments = new ExperimentService(api.prisma);
  const created = await experiments.create({
    key: "race",
    hypothesis: "both writers keep their counts",
    owner: "pm@example.com",
    primaryMetric: "click_through",
    variants: [
      { name: "control", weight: 50, strategy: "default" },
      { name: "treatment", weight: 50, strategy: "popularity" },
    ],
  });
  await experiments.start("race");
  const def = parseExperimentDefinition({ ...created, status: "running" });
  const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
  const previousHour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  const streamRows = (round: number): ExperimentUserHourRow[] =>
    users.map((userId) => ({
      experimentKey: "race",
      variant: assignVariant(def, userId).variant,
      userId,
      hour: new Date(previousHour),
      exposures: 1 + (round % 3),
      clicks: 0,
      watches: 0,
      ratingSum: 0,
      ratingCount: 0,
      responses: 1 + (round % 3),
      failures: 0,
      latencySumMs: 20 * (1 + (round % 3)),
      firstExposure: new Date(previousHour + 1_000),
    }));
  const range = { from: previousHour, to: previousHour + 3_600_000 };
  await replaceUserHourStats(worker.prisma, users, range, streamRows(0));
  // A write the rollup overwrites is summed in again by the user's next rollup: the totals are
  // compared after every round, when both writers are done, not only at the end.
  const mismatches = async () => {
    const hours = await api.prisma.experimentUserHourStat.findMany();
    const sums = new Map<string, number>();
    for (const row of hours) sums.set(row.userId, (sums.get(row.userId) ?? 0) + row.exposures);
    const totals = await api.prisma.experimentUserStat.findMany();
    return totals
      .filter((total) => total.exposures !== sums.get(total.userId))
      .map((total) => `${total.userId}: ${total.exposures} ≠ ${sums.get(total.userId)}`);
  };
  let apiExposures = 0;
  const found: string[] = [];
  for (let round = 1; round <= 30; round++) {
    await Promise.all([
      replaceUserHourStats(worker.prisma, users, range, streamRows(round)),
      (async () => {
        for (const userId of users) {
          await experiments.recordExposure("race", assignVariant(def, userId).variant, userId);
          apiExposures += 1;
        }
      })(),
    ]);
    found.push(...(await mismatches()).map((m) => `round ${round}: ${m}`));
  }
  expect(found).toEqual([]);
  const hours = await api.prisma.experimentUserHourStat.findMany();
  expect(await api.prisma.experimentUserStat.count()).toBe(users.length);
  // every API exposure is in an "api" hour, the stream's last run in its own
  const apiRows = hours.filter((row) => row.source === "api");
  expect(apiRows.reduce((sum, row) => sum + row.exposures, 0)).toBe(apiExposures);
  expect(hours.filter((row) => row.source === "stream").map((row) => row.exposures)).toEqual(
    users.map(() => 1 + (30 % 3)),
  );
}, 120_000);
