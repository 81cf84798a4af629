import path from "node:path";
import { duckConnection, sqlString } from "./duckdb.ts";
import { listSnapshotFiles } from "./layout.ts";
import { readingSnapshots, type QuarantineOptions } from "./quarantine.ts";

/** A read_parquet() source over every snapshot file of the given topics (all topics if none). */
export async function snapshotSource(root: string, topics?: string[]): Promise<string | null> {
  const files = (await listSnapshotFiles(root)).filter(
    (file) => !topics || topics.includes(file.topic),
  );
  if (files.length === 0) return null;
  return `read_parquet([${files.map((file) => sqlString(path.resolve(file.path))).join(", ")}], hive_partitioning = false)`;
}

/**
 * Runs an aggregate query over the snapshots; `{source}` in the SQL is replaced by the file list.
 * An unreadable file is quarantined and the query rerun without it (see `readingSnapshots`).
 */
export async function querySnapshots<T extends Record<string, unknown>>(
  root: string,
  sql: string,
  topics?: string[],
  options: QuarantineOptions = {},
): Promise<T[]> {
  return readingSnapshots(
    root,
    async () => {
      const source = await snapshotSource(root, topics);
      if (!source) return [];
      const connection = await duckConnection();
      try {
        const reader = await connection.runAndReadAll(sql.replaceAll("{source}", source));
        return reader.getRowObjectsJS() as T[];
      } finally {
        connection.closeSync();
      }
    },
    options,
  );
}

/** Number of distinct interaction events (watch/rate/click) stored, across all topics. */
export async function countInteractions(
  root: string,
): Promise<{ events: number; ratings: number; users: number }> {
  const [row] = await querySnapshots<{ events: bigint; ratings: bigint; users: bigint }>(
    root,
    `SELECT count(DISTINCT event_id) AS events,
            count(DISTINCT event_id) FILTER (WHERE type = 'rate') AS ratings,
            count(DISTINCT user_id) AS users
       FROM {source} WHERE type IN ('watch', 'rate', 'click')`,
  );
  return {
    events: Number(row?.events ?? 0),
    ratings: Number(row?.ratings ?? 0),
    users: Number(row?.users ?? 0),
  };
}
