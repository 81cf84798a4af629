import { LATENCY_BUCKETS, latencyBucketSql, trimLatencyCounts } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import {
  backgroundConnection,
  readingSnapshots,
  sqlString,
  type QuarantineOptions,
} from "@reco/snapshots";
import type { EventSummary } from "./event-summary.ts";
import type { FileTimeRanges } from "./file-times.ts";

const MINUTE_MS = 60_000;

export interface AggregateTopics {
  responses: string;
  /** Topics whose events carry `recId` (watch, rate, click). */
  interactions: string[];
}

export interface MinuteSpan {
  from: Date;
  /** Exclusive. */
  to: Date;
}

export interface MinuteAggregate {
  minute: Date;
  versionLabel: string;
  experimentKey: string;
  variant: string;
  impressions: number;
  clicks: number;
  watches: number;
  ratings: number;
  errors: number;
  fallbacks: number;
  cacheHits: number;
  uniqueUsers: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencySumMs: number;
  /** Responses per latency bucket (@reco/contracts' ladder), trailing empty buckets left out. */
  latencyCounts: number[];
}

const floorMinute = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
export const timestamp = (date: Date) =>
  `TIMESTAMP ${sqlString(date.toISOString().replace("T", " ").replace("Z", ""))}`;

/**
 * Fields of an event's JSON payload, read in one parse (a list of paths; a path at a time parses
 * the payload once per field): `select` goes in the scan's columns, `field(name)` reads one of
 * them in a later step.
 */
export function payloadFields<const Name extends string>(
  names: readonly Name[],
): { select: string; field: (name: Name) => string } {
  const paths = names.map((name) => sqlString(`$.${name}`)).join(", ");
  return {
    select: `json_extract_string(payload, [${paths}]) AS payload_fields`,
    field: (name) => `payload_fields[${names.indexOf(name) + 1}]`,
  };
}

/** Minutes whose aggregates the given events can change (responses, and interactions carrying a recId). */
export function touchedSpan(
  events: readonly EventSummary[],
  topics: AggregateTopics,
  topic: string,
  attributionWindowMs: number,
): MinuteSpan | null {
  const relevant = topic === topics.responses || topics.interactions.includes(topic);
  if (!relevant) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const event of events) {
    const time = Date.parse(event.eventTime);
    // A response also changes the minutes its window reaches into: clicks on it may have been
    // written before it (topics are flushed independently) and counted as unattributed.
    let reach = time;
    if (event.type === "reco.response") reach = time + attributionWindowMs;
    else if (!event.recId) continue;
    if (time < min) min = time;
    if (reach > max) max = reach;
  }
  if (min === Infinity) return null;
  return { from: new Date(floorMinute(min)), to: new Date(floorMinute(max) + MINUTE_MS) };
}

export function mergeSpans(a: MinuteSpan | null, b: MinuteSpan | null): MinuteSpan | null {
  if (!a) return b;
  if (!b) return a;
  return { from: a.from < b.from ? a.from : b.from, to: a.to > b.to ? a.to : b.to };
}

/**
 * Recomputes, from the snapshot files, the complete aggregates of every minute in `span`:
 * impressions, errors (status ≥ 500), fallbacks, cache hits, unique users and latency
 * percentiles from `reco.responses`; clicks, watches and ratings attributed to the response
 * with the same recId when they follow it within the attribution window. Interactions count in
 * the minute they happened. Absolute values, never increments: a replay or a rerun is harmless.
 * An event stored twice under its id (a producer's retry, a client retrying with the eventIds its
 * 503 named) counts once.
 */
export function computeMinuteAggregates(
  files: FileTimeRanges,
  root: string,
  topics: AggregateTopics,
  span: MinuteSpan,
  attributionWindowMs: number,
  options: QuarantineOptions = {},
): Promise<MinuteAggregate[]> {
  return readingSnapshots(
    root,
    () => minuteAggregatesOnce(files, root, topics, span, attributionWindowMs),
    options,
  );
}

async function minuteAggregatesOnce(
  files: FileTimeRanges,
  root: string,
  topics: AggregateTopics,
  span: MinuteSpan,
  attributionWindowMs: number,
): Promise<MinuteAggregate[]> {
  const from = span.from.getTime();
  const to = span.to.getTime();
  const responseFiles = await files.select(root, topics.responses, from - attributionWindowMs, to);
  if (!responseFiles.length) return [];
  const interactionFiles: string[] = [];
  for (const topic of topics.interactions)
    interactionFiles.push(...(await files.select(root, topic, from, to)));
  const interactions = interactionFiles.length
    ? `SELECT DISTINCT ON (event_id) event_id, type, rec_id, event_time FROM read_parquet([${interactionFiles.join(", ")}], hive_partitioning = false)
        WHERE rec_id IS NOT NULL AND event_time >= ${timestamp(span.from)} AND event_time < ${timestamp(span.to)}`
    : `SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS type, NULL::VARCHAR AS rec_id, NULL::TIMESTAMP AS event_time WHERE false`;
  const payload = payloadFields([
    "modelVersion",
    "experimentKey",
    "variant",
    "status",
    "fallback",
    "cacheHit",
  ] as const);
  const sql = `
    WITH raw AS (
      SELECT event_id, rec_id, user_id, event_time, value, ${payload.select}
        FROM read_parquet([${responseFiles.join(", ")}], hive_partitioning = false)
       WHERE type = 'reco.response'
    ),
    resp AS (
      SELECT DISTINCT ON (event_id) rec_id, user_id, event_time, value AS latency_ms,
             ${latencyBucketSql("value")} AS latency_bucket,
             coalesce(${payload.field("modelVersion")}, '') AS version_label,
             coalesce(${payload.field("experimentKey")}, '') AS experiment_key,
             coalesce(${payload.field("variant")}, '') AS variant,
             CAST(${payload.field("status")} AS INTEGER) AS status,
             CAST(${payload.field("fallback")} AS BOOLEAN) AS fallback,
             CAST(${payload.field("cacheHit")} AS BOOLEAN) AS cache_hit
        FROM raw
    ),
    impressions AS (
      SELECT date_trunc('minute', event_time) AS minute, version_label, experiment_key, variant,
             count(*) AS impressions,
             count(*) FILTER (WHERE status >= 500) AS errors,
             count(*) FILTER (WHERE fallback) AS fallbacks,
             count(*) FILTER (WHERE cache_hit) AS cache_hits,
             count(DISTINCT user_id) AS unique_users,
             quantile_cont(latency_ms, 0.5) AS p50,
             quantile_cont(latency_ms, 0.95) AS p95,
             quantile_cont(latency_ms, 0.99) AS p99,
             sum(latency_ms) AS latency_sum,
             histogram(latency_bucket) AS latency_counts
        FROM resp
       WHERE event_time >= ${timestamp(span.from)} AND event_time < ${timestamp(span.to)}
       GROUP BY ALL
    ),
    actions AS (
      SELECT date_trunc('minute', i.event_time) AS minute, r.version_label, r.experiment_key, r.variant,
             count(*) FILTER (WHERE i.type = 'click') AS clicks,
             count(*) FILTER (WHERE i.type = 'watch') AS watches,
             count(*) FILTER (WHERE i.type = 'rate') AS ratings
        FROM (${interactions}) i
        JOIN resp r ON i.rec_id = r.rec_id
         AND i.event_time >= r.event_time
         AND i.event_time <= r.event_time + to_milliseconds(${Math.round(attributionWindowMs)})
       GROUP BY ALL
    )
    SELECT minute, version_label, experiment_key, variant,
           coalesce(impressions, 0) AS impressions, coalesce(clicks, 0) AS clicks,
           coalesce(watches, 0) AS watches, coalesce(ratings, 0) AS ratings,
           coalesce(errors, 0) AS errors, coalesce(fallbacks, 0) AS fallbacks,
           coalesce(cache_hits, 0) AS cache_hits, coalesce(unique_users, 0) AS unique_users,
           p50, p95, p99, coalesce(latency_sum, 0) AS latency_sum, latency_counts
      FROM impressions FULL OUTER JOIN actions USING (minute, version_label, experiment_key, variant)
     ORDER BY minute, version_label, experiment_key, variant`;
  const connection = await backgroundConnection();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => ({
      minute: row.minute as Date,
      versionLabel: String(row.version_label),
      experimentKey: String(row.experiment_key),
      variant: String(row.variant),
      impressions: Number(row.impressions),
      clicks: Number(row.clicks),
      watches: Number(row.watches),
      ratings: Number(row.ratings),
      errors: Number(row.errors),
      fallbacks: Number(row.fallbacks),
      cacheHits: Number(row.cache_hits),
      uniqueUsers: Number(row.unique_users),
      latencyP50Ms: row.p50 === null ? null : Number(row.p50),
      latencyP95Ms: row.p95 === null ? null : Number(row.p95),
      latencyP99Ms: row.p99 === null ? null : Number(row.p99),
      latencySumMs: Number(row.latency_sum),
      latencyCounts: denseCounts(row.latency_counts as { key: number; value: bigint }[] | null),
    }));
  } finally {
    connection.closeSync();
  }
}

/** DuckDB's histogram (a map of bucket → count, as entries) as a dense array. */
function denseCounts(entries: { key: number; value: bigint }[] | null): number[] {
  const counts = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const { key, value } of entries ?? []) counts[Number(key)] = Number(value);
  return trimLatencyCounts(counts);
}

/** Upserts absolute per-minute values keyed by (minute, version, experiment, variant). */
export async function upsertMinuteAggregates(
  prisma: PrismaClient,
  rows: MinuteAggregate[],
): Promise<void> {
  if (!rows.length) return;
  const column = <T>(pick: (row: MinuteAggregate) => T) => rows.map(pick);
  await prisma.$executeRawUnsafe(
    `INSERT INTO metric_aggregates (minute, model_version_label, experiment_key, variant, impressions, clicks,
        watches, ratings, errors, fallbacks, cache_hits, unique_users, latency_p50_ms, latency_p95_ms,
        latency_p99_ms, latency_sum_ms, latency_counts)
     SELECT m::timestamp(3), v, e, va, i, c, w, r, er, f, ch, u, p50, p95, p99, ls, lc::int[]
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[],
                   $9::int[], $10::int[], $11::int[], $12::int[], $13::float8[], $14::float8[], $15::float8[],
                   $16::float8[], $17::text[]) AS t(m, v, e, va, i, c, w, r, er, f, ch, u, p50, p95, p99, ls, lc)
     ON CONFLICT (minute, model_version_label, experiment_key, variant) DO UPDATE SET
       impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, watches = EXCLUDED.watches,
       ratings = EXCLUDED.ratings, errors = EXCLUDED.errors, fallbacks = EXCLUDED.fallbacks,
       cache_hits = EXCLUDED.cache_hits, unique_users = EXCLUDED.unique_users,
       latency_p50_ms = EXCLUDED.latency_p50_ms, latency_p95_ms = EXCLUDED.latency_p95_ms,
       latency_p99_ms = EXCLUDED.latency_p99_ms, latency_sum_ms = EXCLUDED.latency_sum_ms,
       latency_counts = EXCLUDED.latency_counts`,
    column((r) => r.minute.toISOString().replace("Z", "")),
    column((r) => r.versionLabel),
    column((r) => r.experimentKey),
    column((r) => r.variant),
    column((r) => r.impressions),
    column((r) => r.clicks),
    column((r) => r.watches),
    column((r) => r.ratings),
    column((r) => r.errors),
    column((r) => r.fallbacks),
    column((r) => r.cacheHits),
    column((r) => r.uniqueUsers),
    column((r) => r.latencyP50Ms),
    column((r) => r.latencyP95Ms),
    column((r) => r.latencyP99Ms),
    column((r) => r.latencySumMs),
    // As array literals: unnest of an int[][] would flatten it.
    column((r) => `{${r.latencyCounts.join(",")}}`),
  );
}
