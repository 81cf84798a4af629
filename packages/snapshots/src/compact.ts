import { randomUUID } from "node:crypto";
import { readdir, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { renameDurably } from "./durable.ts";
import { duckConnection, sqlString } from "./duckdb.ts";
import { listSnapshotFiles, snapshotFileName, type SnapshotFile } from "./layout.ts";
import {
  quarantineUnreadable,
  type QuarantineOptions,
  type QuarantinedSnapshot,
} from "./quarantine.ts";

const HOUR_MS = 3_600_000;

/** Start of the UTC hour a snapshot file's directory stands for. */
export function snapshotHourStart(file: Pick<SnapshotFile, "date" | "hour">): Date {
  return new Date(`${file.date}T${file.hour}:00:00.000Z`);
}

function byPartition(files: SnapshotFile[]): Map<string, SnapshotFile[]> {
  const groups = new Map<string, SnapshotFile[]>();
  for (const file of files) {
    const key = `${file.topic}\u0000${file.partition}`;
    const group = groups.get(key) ?? [];
    group.push(file);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    group.sort(
      (a, b) => Number(a.firstOffset - b.firstOffset) || Number(b.lastOffset - a.lastOffset),
    );
  }
  return groups;
}

export interface OverlapReport {
  /** Files deleted because another file's offset range contains theirs (leftovers of a crash). */
  removed: string[];
  /** Pairs whose ranges overlap without containment: never produced by the worker, reported, untouched. */
  conflicts: [string, string][];
}

/**
 * Deletes every file whose offset range lies inside another file's range of the same partition.
 * Such leftovers come from a compaction that crashed after renaming its merged file but before
 * deleting its inputs; the merged file holds every record of them, so nothing is lost.
 * Run it before reading offsets at start and before compacting.
 */
export async function resolveOverlaps(
  root: string,
  filter: { topic?: string; partition?: number } = {},
): Promise<OverlapReport> {
  const report: OverlapReport = { removed: [], conflicts: [] };
  for (const files of byPartition(await listSnapshotFiles(root, filter)).values()) {
    let widest: SnapshotFile | undefined;
    for (const file of files) {
      if (widest && file.lastOffset <= widest.lastOffset) {
        await rm(file.path, { force: true });
        report.removed.push(file.path);
        continue;
      }
      if (widest && file.firstOffset <= widest.lastOffset)
        report.conflicts.push([widest.path, file.path]);
      widest = file;
    }
  }
  return report;
}

async function mergeFiles(inputs: SnapshotFile[]): Promise<string> {
  const first = inputs[0]!;
  const last = inputs.at(-1)!;
  const dir = path.dirname(first.path);
  const finalPath = path.join(
    dir,
    snapshotFileName({ ...first, firstOffset: first.firstOffset, lastOffset: last.lastOffset }),
  );
  const tempPath = path.join(dir, `.tmp-${randomUUID()}.parquet`);
  const list = inputs.map((file) => sqlString(path.resolve(file.path))).join(", ");
  const connection = await duckConnection();
  try {
    await connection.run(
      `COPY (SELECT * FROM read_parquet([${list}], hive_partitioning = false) ORDER BY "offset")
         TO ${sqlString(tempPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    await renameDurably(tempPath, finalPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    connection.closeSync();
  }
  return finalPath;
}

export interface CompactionOptions extends QuarantineOptions {
  topic?: string;
  partition?: number;
  /** Only hours that ended at least this long before `now` are compacted (default 1 h): late writers settle first. */
  settleMs?: number;
  now?: Date;
}

export interface CompactionReport {
  /** Merged files written. */
  written: string[];
  /** Input files deleted after their merged file was durably in place. */
  removed: string[];
  /** Inputs DuckDB could not read, moved to the quarantine (their run is merged next time). */
  quarantined: QuarantinedSnapshot[];
}

/**
 * Merges the small files of each closed hour into one file per partition and hour.
 * Only runs of files that are adjacent in offset order are merged, so the merged range never
 * spans a file that lives in another hour directory. Crash-safe: the merged file is written to a
 * temp name, fsynced and renamed before any input is deleted; a crash in between leaves inputs
 * contained in the merged range, which `resolveOverlaps` (called first, here and at start) removes.
 */
export async function compactSnapshots(
  root: string,
  options: CompactionOptions = {},
): Promise<CompactionReport> {
  const filter = { topic: options.topic, partition: options.partition };
  await resolveOverlaps(root, filter);
  const cutoff = (options.now ?? new Date()).getTime() - (options.settleMs ?? HOUR_MS);
  const report: CompactionReport = { written: [], removed: [], quarantined: [] };
  for (const files of byPartition(await listSnapshotFiles(root, filter)).values()) {
    const runs: SnapshotFile[][] = [];
    for (const file of files) {
      const closed = snapshotHourStart(file).getTime() + HOUR_MS <= cutoff;
      const run = runs.at(-1);
      const previous = run?.at(-1);
      if (closed && run && previous && previous.date === file.date && previous.hour === file.hour)
        run.push(file);
      else runs.push(closed ? [file] : []);
    }
    for (const run of runs) {
      if (run.length < 2) continue;
      let merged: string;
      try {
        merged = await mergeFiles(run);
      } catch (error) {
        const quarantined = await quarantineUnreadable(root, error, options);
        if (!quarantined) throw error;
        report.quarantined.push(quarantined);
        continue;
      }
      report.written.push(merged);
      for (const input of run) {
        await rm(input.path, { force: true });
        report.removed.push(input.path);
      }
    }
  }
  return report;
}

export interface RetentionOptions {
  /** Hours that ended before this instant are deleted. */
  olderThan: Date;
  topic?: string;
}

/**
 * Deletes snapshot files whose hour ended before `olderThan`, except the newest file of each
 * partition: it carries the covered offset a restarted worker resumes after.
 */
export async function removeExpiredSnapshots(
  root: string,
  options: RetentionOptions,
): Promise<string[]> {
  const removed: string[] = [];
  for (const files of byPartition(
    await listSnapshotFiles(root, { topic: options.topic }),
  ).values()) {
    const newest = files.reduce((a, b) => (b.lastOffset > a.lastOffset ? b : a));
    for (const file of files) {
      if (file === newest) continue;
      if (snapshotHourStart(file).getTime() + HOUR_MS > options.olderThan.getTime()) continue;
      await rm(file.path, { force: true });
      removed.push(file.path);
    }
  }
  // Empty hour and date directories of expired hours go too (rmdir refuses non-empty ones).
  for (const hourDir of new Set(removed.map((file) => path.dirname(file)))) {
    await rmdir(hourDir).catch(() => undefined);
    await rmdir(path.dirname(hourDir)).catch(() => undefined);
  }
  return removed;
}

/**
 * Deletes temp files (`.tmp-*.parquet`) older than `olderThanMs`: left by a writer killed before
 * its rename. Young ones may belong to a write in progress in another process, so they stay.
 */
export async function removeStaleTempFiles(
  root: string,
  olderThanMs: number,
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !/^\.tmp-.*\.parquet$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file).catch(() => null);
    if (!info || now - info.mtimeMs < olderThanMs) continue;
    await rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}
