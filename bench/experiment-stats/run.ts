/**
 * What one run of the per-user experiment statistics costs as an experiment ages: the users of the
 * newest 30 s micro-batch recomputed (a) per hour, from the files holding the touched hours
 * (`computeUserHourStats` + `replaceUserHourStats`, the stream worker's scheme since 6726a74) and
 * (b) over every snapshot file, as before (the baseline, its query kept here), alternating in the
 * same run, on synthetic snapshots of 1, 4 and 12 hours of responses (with clicks). Prints the
 * median time per run, the files each opened, the peak RSS above the RSS before the run, and
 * whether both left the same totals in the database (PGlite); then the same batch's minute
 * aggregates (its minutes and the attribution window after them), timed alone.
 *
 *   npx tsx bench/experiment-stats/run.ts [--hours 1,4,12] [--rate 50] [--users 671] [--rounds 3]
 */
import { link, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { SCHEMA_VERSION, type RecoEvent } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import {
  backgroundConnection,
  listSnapshotFiles,
  setDuckIdleCloseMs,
  sqlString,
  toSnapshotRow,
  writeSnapshot,
} from "@reco/snapshots";
import {
  computeMinuteAggregates,
  computeUserHourStats,
  FileTimeRanges,
  replaceUserHourStats,
} from "@reco/stream";
import { residentMemory, resetHighWaterMark } from "../memory/proc.ts";

const { values } = parseArgs({
  options: {
    hours: { type: "string", default: "1,4,12" },
    rate: { type: "string", default: "50" },
    users: { type: "string", default: "671" },
    rounds: { type: "string", default: "3" },
  },
});
const historyHours = values.hours.split(",").map(Number);
const rate = Number(values.rate);
const userCount = Number(values.users);
const rounds = Math.max(1, Number(values.rounds));
const HOUR_MS = 3_600_000;
const WINDOW_MS = HOUR_MS;
const topics = { responses: "reco.responses", interactions: ["reco.events.click"] };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const MB = 1024 * 1024;
const memory = () => {
  const { rss, hwm } = residentMemory();
  return { rss: rss / MB, hwm: hwm / MB };
};

/** Synthetic history: `hours` hours ending 20 minutes into the newest; compacted hours, then 30 s files. */
async function writeHistory(root: string, hours: number, now: number): Promise<void> {
  let offset = 0;
  let click = 0;
  const start = now - (hours - 1) * HOUR_MS - 20 * 60_000;
  const firstOpenHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const write = async (from: number, to: number) => {
    const responses: RecoEvent[] = [];
    const clicks: RecoEvent[] = [];
    for (let t = from; t < to; t += 1000 / rate) {
      const user = `u${Math.floor(Math.random() * userCount)}`;
      const recId = `r${offset + responses.length}`;
      responses.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `e-${recId}`,
        eventTime: new Date(t).toISOString(),
        userId: user,
        type: "reco.response",
        recId,
        itemIds: ["i1", "i2", "i3"],
        modelVersion: "v1",
        experimentKey: "exp",
        variant: Number(user.slice(1)) % 2 ? "b" : "a",
        latencyMs: 5,
        cacheHit: false,
        fallback: false,
        status: 200,
      });
      if (Math.random() < 0.05)
        clicks.push({
          schemaVersion: SCHEMA_VERSION,
          eventId: `c${click++}`,
          eventTime: new Date(t + 60_000).toISOString(),
          userId: user,
          type: "click",
          itemId: "i1",
          recId,
        });
    }
    const put = async (topic: string, events: RecoEvent[], first: number) =>
      events.length &&
      writeSnapshot(
        root,
        {
          topic,
          partition: 0,
          firstOffset: BigInt(first),
          lastOffset: BigInt(first + events.length - 1),
        },
        events.map((event, i) => toSnapshotRow(event, { partition: 0, offset: first + i })),
      );
    await put(topics.responses, responses, offset);
    await put(topics.interactions[0]!, clicks, click - clicks.length);
    offset += responses.length;
  };
  for (let from = start; from < now;) {
    // Closed hours as one compacted file, the open hour as 30 s micro-batches.
    const to =
      from < firstOpenHour
        ? Math.min(firstOpenHour, Math.floor(from / HOUR_MS) * HOUR_MS + HOUR_MS)
        : Math.min(now, from + 30_000);
    await write(from, to);
    from = to;
  }
}

/** The baseline: every touched user's statistics over every snapshot file (the scheme before). */
async function overEveryFile(root: string, users: string[]) {
  const files = async (topic: string) =>
    (await listSnapshotFiles(root, { topic })).map((file) => sqlString(path.resolve(file.path)));
  const responseFiles = await files(topics.responses);
  const interactionFiles = await files(topics.interactions[0]!);
  const userList = users.map(sqlString).join(", ");
  const connection = await backgroundConnection();
  try {
    const reader = await connection.runAndReadAll(`
      WITH resp AS (
        SELECT DISTINCT ON (event_id) rec_id, user_id, event_time,
               json_extract_string(payload, '$.experimentKey') AS experiment_key,
               coalesce(json_extract_string(payload, '$.variant'), '') AS variant
          FROM read_parquet([${responseFiles.join(", ")}], hive_partitioning = false)
         WHERE type = 'reco.response' AND user_id IN (${userList})
           AND json_extract_string(payload, '$.experimentKey') IS NOT NULL),
      exposures AS (SELECT experiment_key, variant, user_id, count(*) AS exposures,
                           min(event_time) AS first_exposure FROM resp GROUP BY ALL),
      actions AS (
        SELECT r.experiment_key, r.variant, r.user_id, count(*) FILTER (WHERE i.type = 'click') AS clicks
          FROM (SELECT DISTINCT ON (event_id) * FROM read_parquet([${interactionFiles.join(", ")}], hive_partitioning = false)) i
          JOIN resp r ON i.rec_id = r.rec_id AND i.event_time >= r.event_time
           AND i.event_time <= r.event_time + to_milliseconds(${WINDOW_MS})
         WHERE i.user_id IN (${userList}) GROUP BY ALL)
      SELECT e.experiment_key, e.variant, e.user_id, e.exposures, e.first_exposure,
             coalesce(a.clicks, 0) AS clicks
        FROM exposures e LEFT JOIN actions a USING (experiment_key, variant, user_id)`);
    return {
      rows: reader.getRowObjectsJS(),
      files: responseFiles.length + interactionFiles.length,
    };
  } finally {
    connection.closeSync();
  }
}

async function main(): Promise<void> {
  setDuckIdleCloseMs(0);
  const base = await mkdtemp(path.join(os.tmpdir(), "bench-exp-stats-"));
  const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 20 * 60_000;
  const longest = Math.max(...historyHours);
  const full = path.join(base, "full");
  const began = performance.now();
  await writeHistory(full, longest, now);
  const written = await listSnapshotFiles(full);
  console.log(
    `${longest} h of history at ${rate} responses/s (${userCount} users, 5 % clicked): ${written.length} files in ${((performance.now() - began) / 1000).toFixed(1)} s; ${rounds} rounds; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
  );
  const db = await openDatabase({ dataDir: path.join(base, "db") });
  const peakResets = resetHighWaterMark();
  console.log(
    "| history | touched users | scheme | files opened | ms per run (median) | peak RSS above the run's start (MB) | same totals |",
  );
  console.log("|---|---:|---|---:|---:|---:|---|");
  try {
    for (const hours of historyHours) {
      // The newest `hours` hours of the full history, hard-linked.
      const root = path.join(base, `h${hours}`);
      const from = now - hours * HOUR_MS;
      for (const file of written) {
        const hourStart = Date.parse(`${file.date}T${file.hour}:00:00Z`);
        if (hourStart + HOUR_MS <= from) continue;
        const target = path.join(root, path.relative(full, file.path));
        await mkdir(path.dirname(target), { recursive: true });
        await link(file.path, target);
      }
      const responses = await listSnapshotFiles(root, { topic: topics.responses });
      const newest = responses.at(-1)!;
      const connection = await backgroundConnection();
      const touched = (
        await connection.runAndReadAll(
          `SELECT DISTINCT user_id FROM read_parquet(${sqlString(newest.path)}) ORDER BY ALL`,
        )
      )
        .getRowObjectsJS()
        .map((row) => String(row.user_id));
      connection.closeSync();
      // The hours a batch touches: its responses' hour, and its clicks' hour and the one before.
      const range = {
        from: Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS,
        to: Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS,
      };
      // Start from complete hourly rows for everyone (what a worker that ran all along holds).
      await db.prisma.experimentUserHourStat.deleteMany({});
      await db.prisma.experimentUserStat.deleteMany({});
      const everyone = Array.from({ length: userCount }, (_, i) => `u${i}`);
      const fileTimes = new FileTimeRanges();
      const all = { from: Math.floor(now / HOUR_MS) * HOUR_MS - hours * HOUR_MS, to: range.to };
      await replaceUserHourStats(
        db.prisma,
        everyone,
        all,
        await computeUserHourStats(fileTimes, root, topics, all, everyone, WINDOW_MS),
      );
      const totals = async () =>
        JSON.stringify(
          await db.prisma.experimentUserStat.findMany({
            where: { userId: { in: touched } },
            orderBy: [{ userId: "asc" }, { variant: "asc" }],
            select: {
              userId: true,
              variant: true,
              exposures: true,
              clicks: true,
              firstExposure: true,
            },
          }),
        );
      const expected = await totals();
      const samples = { hourly: [] as number[], every: [] as number[] };
      const peaks = { hourly: [] as number[], every: [] as number[] };
      const opened = { hourly: 0, every: 0 };
      const same = { hourly: true, every: true };
      for (let round = 0; round < rounds; round++) {
        for (const scheme of round % 2
          ? (["every", "hourly"] as const)
          : (["hourly", "every"] as const)) {
          const before = memory().rss;
          resetHighWaterMark();
          const t = performance.now();
          if (scheme === "hourly") {
            const selected =
              (await fileTimes.select(root, topics.responses, range.from, range.to)).length +
              (await fileTimes.select(root, topics.interactions[0]!, range.from, Infinity)).length;
            const rows = await computeUserHourStats(
              fileTimes,
              root,
              topics,
              range,
              touched,
              WINDOW_MS,
            );
            await replaceUserHourStats(db.prisma, touched, range, rows);
            opened.hourly = selected;
          } else {
            const { rows, files } = await overEveryFile(root, touched);
            await db.prisma.$executeRawUnsafe(
              `INSERT INTO experiment_user_stats (experiment_key, variant, user_id, exposures, clicks, first_exposure, updated_at)
               SELECT k, v, u, e, c, f::timestamp(3), now() FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[]) AS t(k, v, u, e, c, f)
               ON CONFLICT (experiment_key, variant, user_id) DO UPDATE SET exposures = EXCLUDED.exposures,
                 clicks = EXCLUDED.clicks, first_exposure = EXCLUDED.first_exposure, updated_at = now()`,
              rows.map((r) => String(r.experiment_key)),
              rows.map((r) => String(r.variant)),
              rows.map((r) => String(r.user_id)),
              rows.map((r) => Number(r.exposures)),
              rows.map((r) => Number(r.clicks)),
              rows.map((r) => (r.first_exposure as Date).toISOString().replace("Z", "")),
            );
            opened.every = files;
          }
          samples[scheme].push(performance.now() - t);
          peaks[scheme].push((peakResets ? memory().hwm : memory().rss) - before);
          if ((await totals()) !== expected) same[scheme] = false;
        }
      }
      for (const scheme of ["hourly", "every"] as const)
        console.log(
          `| ${hours} h | ${touched.length} | ${scheme === "hourly" ? "hours touched (new)" : "every file (before)"} | ${opened[scheme]} | ${median(samples[scheme]).toFixed(0)} | ${Math.max(0, median(peaks[scheme])).toFixed(0)} | ${same[scheme] ? "yes" : "NO"} |`,
        );
      console.log(
        `| ${hours} h | | ratio new / before | | ${(median(samples.hourly) / median(samples.every)).toFixed(2)}× | | |`,
      );
      // The same batch's minute aggregates: its minutes and the attribution window after them,
      // from the responses of the window before (what the worker's other run computes).
      const minute = 60_000;
      const span = {
        from: new Date(Math.floor((now - 30_000) / minute) * minute),
        to: new Date(Math.floor((now + WINDOW_MS) / minute) * minute + minute),
      };
      const aggregateMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const t = performance.now();
        await computeMinuteAggregates(fileTimes, root, topics, span, WINDOW_MS);
        aggregateMs.push(performance.now() - t);
      }
      const aggregateFiles = (
        await fileTimes.select(
          root,
          topics.responses,
          span.from.getTime() - WINDOW_MS,
          span.to.getTime(),
        )
      ).length;
      console.log(
        `| ${hours} h | | minute aggregates of the batch | ${aggregateFiles} response files | ${median(aggregateMs).toFixed(0)} | | |`,
      );
    }
  } finally {
    await db.close();
    await rm(base, { recursive: true, force: true });
  }
}

await main();
