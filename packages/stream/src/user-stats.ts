import type { ExperimentStatCounts, PrismaClient } from "@reco/db";
import {
  backgroundConnection,
  readingSnapshots,
  sqlString,
  type QuarantineOptions,
} from "@reco/snapshots";
import type { EventSummary } from "./event-summary.ts";
import { payloadFields, timestamp, type AggregateTopics } from "./aggregates.ts";
import type { FileTimeRanges } from "./file-times.ts";

const HOUR_MS = 3_600_000;
const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** One user's statistics in one experiment variant for the responses of one hour. */
export interface ExperimentUserHourRow extends ExperimentStatCounts {
  experimentKey: string;
  variant: string;
  userId: string;
  /** Start of the hour (UTC) the responses were served in. */
  hour: Date;
  firstExposure: Date;
}

/** Hours (start, ms) whose per-user statistics new events can change, with the users touched in each. */
export type TouchedHours = Map<number, Set<string>>;

/** Adds one (hour, user) pair. */
export function markUserHour(into: TouchedHours, hour: number, userId: string): void {
  let users = into.get(hour);
  if (!users) into.set(hour, (users = new Set()));
  users.add(userId);
}

/**
 * The (hour, user) pairs the events touch: a response served in an experiment, its hour; an
 * interaction carrying a recId, every hour a response it is attributed to can have been served in
 * (the attribution window before it).
 */
export function touchedUserHours(
  events: readonly EventSummary[],
  attributionWindowMs: number,
  into: TouchedHours,
): void {
  for (const event of events) {
    const time = Date.parse(event.eventTime);
    if (Number.isNaN(time)) continue;
    if (event.type === "reco.response") {
      if (event.experimentKey) markUserHour(into, floorHour(time), event.userId);
    } else if (event.recId) {
      for (let hour = floorHour(time - attributionWindowMs); hour <= time; hour += HOUR_MS)
        markUserHour(into, hour, event.userId);
    }
  }
}

/** The longest range one query covers (a rebuild of weeks of hours goes in pieces of this). */
const MAX_RANGE_MS = 6 * HOUR_MS;

/**
 * Hours as ranges [from, to) in ms: hours at most two apart share a range (and one query), up to
 * six hours a range.
 */
export function hourRanges(hours: Iterable<number>): { from: number; to: number }[] {
  const sorted = [...hours].sort((a, b) => a - b);
  const ranges: { from: number; to: number }[] = [];
  for (const hour of sorted) {
    const last = ranges.at(-1);
    if (last && hour <= last.to + HOUR_MS && hour + HOUR_MS - last.from <= MAX_RANGE_MS)
      last.to = hour + HOUR_MS;
    else ranges.push({ from: hour, to: hour + HOUR_MS });
  }
  return ranges;
}

/**
 * Per experiment, variant, user and hour of [from, to): exposures (responses carrying that
 * experiment served in the hour), the clicks, watches and ratings attributed to them within the
 * attribution window, and the first exposure — complete for each of `users`' hours in the range,
 * read only from the files holding events of it: responses served in the range, interactions timed
 * since its start. An event stored twice under its id counts once.
 */
export function computeUserHourStats(
  files: FileTimeRanges,
  root: string,
  topics: AggregateTopics,
  range: { from: number; to: number },
  users: readonly string[],
  attributionWindowMs: number,
  options: QuarantineOptions = {},
): Promise<ExperimentUserHourRow[]> {
  return readingSnapshots(
    root,
    () => userHourStatsOnce(files, root, topics, range, users, attributionWindowMs),
    options,
  );
}

async function userHourStatsOnce(
  files: FileTimeRanges,
  root: string,
  topics: AggregateTopics,
  { from, to }: { from: number; to: number },
  users: readonly string[],
  attributionWindowMs: number,
): Promise<ExperimentUserHourRow[]> {
  if (!users.length) return [];
  const responseFiles = await files.select(root, topics.responses, from, to);
  if (!responseFiles.length) return [];
  const interactionFiles: string[] = [];
  for (const topic of topics.interactions)
    interactionFiles.push(...(await files.select(root, topic, from, Infinity)));
  const userList = users.map(sqlString).join(", ");
  const start = timestamp(new Date(from));
  const actions = interactionFiles.length
    ? `SELECT r.experiment_key, r.variant, r.user_id, r.hour,
              count(*) FILTER (WHERE i.type = 'click') AS clicks,
              count(*) FILTER (WHERE i.type = 'watch') AS watches,
              coalesce(sum(i.value) FILTER (WHERE i.type = 'rate'), 0) AS rating_sum,
              count(*) FILTER (WHERE i.type = 'rate') AS rating_count
         FROM (SELECT DISTINCT ON (event_id) type, value, rec_id, event_time
                 FROM read_parquet([${interactionFiles.join(", ")}], hive_partitioning = false)
                WHERE user_id IN (${userList}) AND rec_id IS NOT NULL AND event_time >= ${start}) i
         JOIN resp r ON i.rec_id = r.rec_id
          AND i.event_time >= r.event_time
          AND i.event_time <= r.event_time + to_milliseconds(${Math.round(attributionWindowMs)})
        GROUP BY ALL`
    : `SELECT NULL::VARCHAR AS experiment_key, NULL::VARCHAR AS variant, NULL::VARCHAR AS user_id,
              NULL::TIMESTAMP AS hour, 0 AS clicks, 0 AS watches, 0.0 AS rating_sum, 0 AS rating_count
        WHERE false`;
  const payload = payloadFields(["experimentKey", "variant", "status", "fallback"] as const);
  const sql = `
    WITH raw AS (
      SELECT event_id, rec_id, user_id, event_time, value AS latency_ms, ${payload.select}
        FROM read_parquet([${responseFiles.join(", ")}], hive_partitioning = false)
       WHERE type = 'reco.response' AND user_id IN (${userList})
         AND event_time >= ${start} AND event_time < ${timestamp(new Date(to))}
    ),
    resp AS (
      SELECT DISTINCT ON (event_id) rec_id, user_id, event_time, latency_ms,
             coalesce(CAST(${payload.field("status")} AS INTEGER) >= 500, false)
               OR coalesce(CAST(${payload.field("fallback")} AS BOOLEAN), false) AS failed,
             date_trunc('hour', event_time) AS hour,
             ${payload.field("experimentKey")} AS experiment_key,
             coalesce(${payload.field("variant")}, '') AS variant
        FROM raw
       WHERE ${payload.field("experimentKey")} IS NOT NULL
    ),
    exposures AS (
      SELECT experiment_key, variant, user_id, hour, count(*) AS exposures,
             count(*) FILTER (WHERE failed) AS failures,
             coalesce(sum(latency_ms), 0) AS latency_sum_ms,
             min(event_time) AS first_exposure
        FROM resp GROUP BY ALL
    ),
    actions AS (${actions})
    SELECT e.experiment_key, e.variant, e.user_id, e.hour, e.exposures, e.first_exposure,
           e.failures, e.latency_sum_ms,
           coalesce(a.clicks, 0) AS clicks, coalesce(a.watches, 0) AS watches,
           coalesce(a.rating_sum, 0) AS rating_sum, coalesce(a.rating_count, 0) AS rating_count
      FROM exposures e LEFT JOIN actions a USING (experiment_key, variant, user_id, hour)
     ORDER BY ALL`;
  const connection = await backgroundConnection();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => ({
      experimentKey: String(row.experiment_key),
      variant: String(row.variant),
      userId: String(row.user_id),
      hour: row.hour as Date,
      exposures: Number(row.exposures),
      clicks: Number(row.clicks),
      watches: Number(row.watches),
      ratingSum: Number(row.rating_sum),
      ratingCount: Number(row.rating_count),
      // every exposure the stream counts is a served response
      responses: Number(row.exposures),
      failures: Number(row.failures),
      latencySumMs: Number(row.latency_sum_ms),
      firstExposure: row.first_exposure as Date,
    }));
  } finally {
    connection.closeSync();
  }
}

/** Timestamps are stored in UTC without zone, as Prisma reads and writes them. */
const utc = (date: Date) => date.toISOString().replace("Z", "");

/**
 * In one transaction: replaces the users' hourly rows of [from, to) with `rows` (absolute values,
 * so a replay or a rerun is harmless; upserted, as two workers may replace the same hour at once),
 * then sets each of the users' experiment_user_stats rows to the sum of all their hours
 * (`pre_metric` is left alone). Hours whose snapshot files are gone (retention) still count. Only
 * the stream's own rows are replaced: what the experiments API recorded for the same users (its
 * rows have source "api") is summed in, not overwritten.
 */
export async function replaceUserHourStats(
  prisma: PrismaClient,
  users: readonly string[],
  range: { from: number; to: number },
  rows: readonly ExperimentUserHourRow[],
): Promise<void> {
  const inserts = [];
  for (let i = 0; i < rows.length; i += 5_000) {
    const chunk = rows.slice(i, i + 5_000);
    const column = <T>(pick: (row: ExperimentUserHourRow) => T) => chunk.map(pick);
    inserts.push(
      prisma.$executeRawUnsafe(
        `INSERT INTO experiment_user_hour_stats (experiment_key, variant, user_id, hour, exposures, clicks,
            watches, rating_sum, rating_count, first_exposure, responses, failures, latency_sum_ms)
         SELECT k, v, u, h::timestamp(3), e, c, w, rs, rc, f::timestamp(3), n, nf, ls
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[],
                       $8::float8[], $9::int[], $10::text[], $11::int[], $12::int[], $13::float8[])
                AS t(k, v, u, h, e, c, w, rs, rc, f, n, nf, ls)
         ON CONFLICT (experiment_key, variant, user_id, hour, source) DO UPDATE SET
           exposures = EXCLUDED.exposures, clicks = EXCLUDED.clicks, watches = EXCLUDED.watches,
           rating_sum = EXCLUDED.rating_sum, rating_count = EXCLUDED.rating_count,
           first_exposure = EXCLUDED.first_exposure, responses = EXCLUDED.responses,
           failures = EXCLUDED.failures, latency_sum_ms = EXCLUDED.latency_sum_ms`,
        column((r) => r.experimentKey),
        column((r) => r.variant),
        column((r) => r.userId),
        column((r) => utc(r.hour)),
        column((r) => r.exposures),
        column((r) => r.clicks),
        column((r) => r.watches),
        column((r) => r.ratingSum),
        column((r) => r.ratingCount),
        column((r) => utc(r.firstExposure)),
        column((r) => r.responses),
        column((r) => r.failures),
        column((r) => r.latencySumMs),
      ),
    );
  }
  const userIds = [...users];
  await prisma.$transaction([
    // The users' totals rows first, in one order: an experiments-API write of the same user (which
    // adds to its totals and to its own hourly row) waits, or has committed and is summed in below.
    // Without it, a write committing while the sum ran was overwritten until the user's next run;
    // two workers rolling up overlapping users wait for each other the same way.
    prisma.$queryRawUnsafe(
      `SELECT id FROM experiment_user_stats WHERE user_id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      userIds,
    ),
    prisma.$executeRawUnsafe(
      `DELETE FROM experiment_user_hour_stats
        WHERE user_id = ANY($1::text[]) AND hour >= $2::timestamp(3) AND hour < $3::timestamp(3)
          AND source = 'stream'`,
      userIds,
      utc(new Date(range.from)),
      utc(new Date(range.to)),
    ),
    ...inserts,
    prisma.$executeRawUnsafe(
      `INSERT INTO experiment_user_stats (experiment_key, variant, user_id, exposures, clicks, watches,
          rating_sum, rating_count, responses, failures, latency_sum_ms, first_exposure, updated_at)
       SELECT experiment_key, variant, user_id, sum(exposures), sum(clicks), sum(watches),
              sum(rating_sum), sum(rating_count), sum(responses), sum(failures), sum(latency_sum_ms),
              min(first_exposure), now() AT TIME ZONE 'UTC'
         FROM experiment_user_hour_stats
        WHERE user_id = ANY($1::text[])
        GROUP BY experiment_key, variant, user_id
       ON CONFLICT (experiment_key, variant, user_id) DO UPDATE SET
         exposures = EXCLUDED.exposures, clicks = EXCLUDED.clicks, watches = EXCLUDED.watches,
         rating_sum = EXCLUDED.rating_sum, rating_count = EXCLUDED.rating_count,
         responses = EXCLUDED.responses, failures = EXCLUDED.failures,
         latency_sum_ms = EXCLUDED.latency_sum_ms,
         first_exposure = EXCLUDED.first_exposure, updated_at = EXCLUDED.updated_at`,
      userIds,
    ),
  ]);
}

/**
 * Whether per-user totals exist without any hourly row: a database from before hours were kept,
 * whose hours are to be rebuilt from every snapshot file once (summing only new hours would drop
 * the totals' earlier exposures).
 */
export async function userHoursMissing(prisma: PrismaClient): Promise<boolean> {
  const rows = await prisma.$queryRawUnsafe<{ missing: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM experiment_user_stats)
        AND NOT EXISTS (SELECT 1 FROM experiment_user_hour_stats) AS missing`,
  );
  return rows[0]?.missing === true;
}
