import path from "node:path";
import type { PrismaClient } from "@reco/db";
import {
  backgroundConnection,
  listSnapshotFiles,
  readingSnapshots,
  sqlString,
  type QuarantineOptions,
} from "@reco/snapshots";
import type { EventSummary } from "./event-summary.ts";
import type { AggregateTopics } from "./aggregates.ts";

export interface ExperimentUserStatRow {
  experimentKey: string;
  variant: string;
  userId: string;
  exposures: number;
  clicks: number;
  watches: number;
  ratingSum: number;
  ratingCount: number;
  firstExposure: Date;
}

/** Users whose experiment statistics the given events can change. */
export function touchedUsers(events: readonly EventSummary[], into: Set<string>): void {
  for (const event of events) {
    if (event.type === "reco.response" ? event.experimentKey : event.recId) into.add(event.userId);
  }
}

async function files(root: string, topics: string[]): Promise<string[]> {
  const all = await Promise.all(topics.map((topic) => listSnapshotFiles(root, { topic })));
  return all.flat().map((file) => sqlString(path.resolve(file.path)));
}

/**
 * Per experiment, variant and user: exposures (responses carrying that experiment), clicks,
 * watches and ratings attributed to those responses within the attribution window, and the first
 * exposure. Recomputed over all snapshot files for the given users (absolute values), so the
 * sufficient statistics the experiment results need stay exact under replay; an event stored
 * twice under its id counts once.
 */
export function computeUserStats(
  root: string,
  topics: AggregateTopics,
  users: string[],
  attributionWindowMs: number,
  options: QuarantineOptions = {},
): Promise<ExperimentUserStatRow[]> {
  return readingSnapshots(
    root,
    () => userStatsOnce(root, topics, users, attributionWindowMs),
    options,
  );
}

async function userStatsOnce(
  root: string,
  topics: AggregateTopics,
  users: string[],
  attributionWindowMs: number,
): Promise<ExperimentUserStatRow[]> {
  if (!users.length) return [];
  const responseFiles = await files(root, [topics.responses]);
  if (!responseFiles.length) return [];
  const interactionFiles = await files(root, topics.interactions);
  const userList = users.map(sqlString).join(", ");
  const actions = interactionFiles.length
    ? `SELECT r.experiment_key, r.variant, r.user_id,
              count(*) FILTER (WHERE i.type = 'click') AS clicks,
              count(*) FILTER (WHERE i.type = 'watch') AS watches,
              coalesce(sum(i.value) FILTER (WHERE i.type = 'rate'), 0) AS rating_sum,
              count(*) FILTER (WHERE i.type = 'rate') AS rating_count
         FROM (SELECT DISTINCT ON (event_id) *
                 FROM read_parquet([${interactionFiles.join(", ")}], hive_partitioning = false)) i
         JOIN resp r ON i.rec_id = r.rec_id
          AND i.event_time >= r.event_time
          AND i.event_time <= r.event_time + to_milliseconds(${Math.round(attributionWindowMs)})
        WHERE i.user_id IN (${userList})
        GROUP BY ALL`
    : `SELECT NULL::VARCHAR AS experiment_key, NULL::VARCHAR AS variant, NULL::VARCHAR AS user_id,
              0 AS clicks, 0 AS watches, 0.0 AS rating_sum, 0 AS rating_count WHERE false`;
  const sql = `
    WITH resp AS (
      SELECT DISTINCT ON (event_id) rec_id, user_id, event_time,
             json_extract_string(payload, '$.experimentKey') AS experiment_key,
             coalesce(json_extract_string(payload, '$.variant'), '') AS variant
        FROM read_parquet([${responseFiles.join(", ")}], hive_partitioning = false)
       WHERE type = 'reco.response' AND user_id IN (${userList})
         AND json_extract_string(payload, '$.experimentKey') IS NOT NULL
    ),
    exposures AS (
      SELECT experiment_key, variant, user_id, count(*) AS exposures, min(event_time) AS first_exposure
        FROM resp GROUP BY ALL
    ),
    actions AS (${actions})
    SELECT e.experiment_key, e.variant, e.user_id, e.exposures, e.first_exposure,
           coalesce(a.clicks, 0) AS clicks, coalesce(a.watches, 0) AS watches,
           coalesce(a.rating_sum, 0) AS rating_sum, coalesce(a.rating_count, 0) AS rating_count
      FROM exposures e LEFT JOIN actions a USING (experiment_key, variant, user_id)
     ORDER BY ALL`;
  const connection = await backgroundConnection();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => ({
      experimentKey: String(row.experiment_key),
      variant: String(row.variant),
      userId: String(row.user_id),
      exposures: Number(row.exposures),
      clicks: Number(row.clicks),
      watches: Number(row.watches),
      ratingSum: Number(row.rating_sum),
      ratingCount: Number(row.rating_count),
      firstExposure: row.first_exposure as Date,
    }));
  } finally {
    connection.closeSync();
  }
}

/** Upserts absolute per-user values keyed by (experiment, variant, user); `pre_metric` is left alone. */
export async function upsertUserStats(
  prisma: PrismaClient,
  rows: ExperimentUserStatRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 5_000) {
    const chunk = rows.slice(i, i + 5_000);
    const column = <T>(pick: (row: ExperimentUserStatRow) => T) => chunk.map(pick);
    await prisma.$executeRawUnsafe(
      `INSERT INTO experiment_user_stats (experiment_key, variant, user_id, exposures, clicks, watches,
          rating_sum, rating_count, first_exposure, updated_at)
       SELECT k, v, u, e, c, w, rs, rc, f::timestamp(3), now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::float8[],
                     $8::int[], $9::text[]) AS t(k, v, u, e, c, w, rs, rc, f)
       ON CONFLICT (experiment_key, variant, user_id) DO UPDATE SET
         exposures = EXCLUDED.exposures, clicks = EXCLUDED.clicks, watches = EXCLUDED.watches,
         rating_sum = EXCLUDED.rating_sum, rating_count = EXCLUDED.rating_count,
         first_exposure = EXCLUDED.first_exposure, updated_at = now()`,
      column((r) => r.experimentKey),
      column((r) => r.variant),
      column((r) => r.userId),
      column((r) => r.exposures),
      column((r) => r.clicks),
      column((r) => r.watches),
      column((r) => r.ratingSum),
      column((r) => r.ratingCount),
      column((r) => r.firstExposure.toISOString().replace("Z", "")),
    );
  }
}
