import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { pathExists, renameDurably } from "./durable.ts";
import { duckConnection, sqlString } from "./duckdb.ts";
import { listSnapshotFiles } from "./layout.ts";
import { readingSnapshots, type QuarantineOptions } from "./quarantine.ts";

/** A snapshot file holding rows of one user, and how many. */
export interface UserRowsInFile {
  path: string;
  rows: number;
}

/** Every snapshot file (of any topic) with rows whose `user_id` is `userId`, and their counts. */
export async function filesWithUser(
  root: string,
  userId: string,
  options: QuarantineOptions = {},
): Promise<UserRowsInFile[]> {
  return readingSnapshots(
    root,
    async () => {
      const files = await listSnapshotFiles(root);
      if (files.length === 0) return [];
      const list = files.map((file) => sqlString(path.resolve(file.path))).join(", ");
      const connection = await duckConnection();
      try {
        const reader = await connection.runAndReadAll(
          `SELECT filename AS path, count(*) AS rows
             FROM read_parquet([${list}], hive_partitioning = false, filename = true)
            WHERE user_id = ${sqlString(userId)}
            GROUP BY filename ORDER BY filename`,
        );
        return (reader.getRowObjectsJS() as { path: string; rows: bigint }[]).map((row) => ({
          path: row.path,
          rows: Number(row.rows),
        }));
      } finally {
        connection.closeSync();
      }
    },
    options,
  );
}

/** One stored event of a user, as the snapshot holds it (the export's rows). */
export interface UserSnapshotEvent {
  topic: string;
  eventId: string;
  eventTime: string;
  type: string;
  itemId: string | null;
  value: number | null;
  /** The original event, parsed from the stored payload. */
  event: unknown;
}

/** Every snapshot row of the user, oldest first (duplicates of one event id kept once). */
export async function userSnapshotEvents(
  root: string,
  userId: string,
  options: QuarantineOptions = {},
): Promise<UserSnapshotEvent[]> {
  const found = await filesWithUser(root, userId, options);
  if (found.length === 0) return [];
  const list = found.map((file) => sqlString(file.path)).join(", ");
  const connection = await duckConnection();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT any_value(filename) AS path, event_id, any_value(event_time) AS event_time,
              any_value(type) AS type, any_value(item_id) AS item_id, any_value(value) AS value,
              any_value(payload) AS payload
         FROM read_parquet([${list}], hive_partitioning = false, filename = true)
        WHERE user_id = ${sqlString(userId)}
        GROUP BY event_id ORDER BY event_time, event_id`,
    );
    type Row = {
      path: string;
      event_id: string;
      event_time: Date;
      type: string;
      item_id: string | null;
      value: number | null;
      payload: string;
    };
    return (reader.getRowObjectsJS() as Row[]).map((row) => ({
      topic: /topic=([^/\\]+)/.exec(row.path)?.[1] ?? "",
      eventId: row.event_id,
      eventTime: new Date(row.event_time).toISOString(),
      type: row.type,
      itemId: row.item_id,
      value: row.value,
      event: parsePayload(row.payload),
    }));
  } finally {
    connection.closeSync();
  }
}

function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/**
 * Replaces one snapshot file by a copy without the user's rows, crash-safely: the copy is written
 * to a temp name in the same directory, fsynced and renamed over the original (then the directory
 * is fsynced), so a crash leaves either the old or the new file, never a half one (a leftover temp
 * file is swept by `removeStaleTempFiles`). A file of only that user's rows becomes an empty file
 * under the same name: the name carries the partition's covered offset, which a restarted worker
 * resumes after (deleting it would make the worker read those events from the bus again).
 * Returns the rows removed; 0 when the file is gone (merged by a compaction meanwhile).
 */
export async function rewriteWithoutUser(filePath: string, userId: string): Promise<number> {
  if (!(await pathExists(filePath))) return 0;
  const source = `read_parquet(${sqlString(path.resolve(filePath))}, hive_partitioning = false)`;
  const tempPath = path.join(path.dirname(filePath), `.tmp-${randomUUID()}.parquet`);
  const connection = await duckConnection();
  try {
    const counted = await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE user_id = ${sqlString(userId)}) AS removed FROM ${source}`,
    );
    const removed = Number((counted.getRowObjectsJS()[0] as { removed: bigint }).removed);
    if (removed === 0) return 0;
    await connection.run(
      `COPY (SELECT * FROM ${source} WHERE user_id IS DISTINCT FROM ${sqlString(userId)}
              ORDER BY "offset")
         TO ${sqlString(tempPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    // A compaction may have merged the file away while it was copied: its merged file is
    // found by the next pass, and this copy must not come back as a stray.
    if (!(await pathExists(filePath))) {
      await rm(tempPath, { force: true });
      return 0;
    }
    await renameDurably(tempPath, filePath);
    return removed;
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    connection.closeSync();
  }
}

export interface EraseUserOptions extends QuarantineOptions {
  /**
   * Called once a file has been durably replaced, with how many files so far and the rows this
   * one lost (a caller keeps its own tally; tests kill the process here to check that a deletion
   * cut short finishes after a restart).
   */
  afterFileRewritten?: (filePath: string, rewritten: number, rows: number) => void | Promise<void>;
  /** Rescans after the rewrites, until one finds no row of the user (default 5). */
  maxPasses?: number;
}

export interface EraseUserReport {
  /** Files rewritten (a file rewritten in two passes counts twice). */
  files: number;
  rows: number;
}

export class SnapshotEraseIncomplete extends Error {
  override name = "SnapshotEraseIncomplete";
}

/**
 * Removes every row of `userId` from every snapshot file. Each pass lists the files that still
 * hold any and rewrites them one by one (`rewriteWithoutUser`); it ends when a scan finds none.
 * Rescanning covers files a compaction merged, or the worker wrote, during a pass. Safe to run
 * again after a crash: what was rewritten holds no rows of the user, the rest is rewritten then.
 */
export async function eraseUserFromSnapshots(
  root: string,
  userId: string,
  options: EraseUserOptions = {},
): Promise<EraseUserReport> {
  const report: EraseUserReport = { files: 0, rows: 0 };
  const maxPasses = options.maxPasses ?? 5;
  for (let pass = 0; pass < maxPasses; pass += 1) {
    const found = await filesWithUser(root, userId, options);
    if (found.length === 0) return report;
    for (const file of found) {
      const removed = await rewriteWithoutUser(file.path, userId);
      if (removed === 0) continue;
      report.files += 1;
      report.rows += removed;
      await options.afterFileRewritten?.(file.path, report.files, removed);
    }
  }
  if ((await filesWithUser(root, userId, options)).length === 0) return report;
  throw new SnapshotEraseIncomplete(
    `rows of user "${userId}" were still in the snapshots after ${maxPasses} passes (files written faster than rewritten); the deletion stays pending and is retried`,
  );
}
