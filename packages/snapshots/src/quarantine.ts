import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fsyncPath } from "./durable.ts";
import { duckConnection, sqlString } from "./duckdb.ts";

/** A snapshot file DuckDB could not read, moved out of the snapshot tree. */
export interface QuarantinedSnapshot {
  file: string;
  movedTo: string;
  reason: string;
}

export interface QuarantineOptions {
  /** Told of each file moved aside (default: a process warning). */
  onQuarantine?: (quarantined: QuarantinedSnapshot) => void;
}

/** Where unreadable snapshot files go: outside every `topic=` directory, not named `*.parquet`. */
export const quarantineDir = (root: string) => path.join(root, "quarantine");

/**
 * Runs `read` (which lists the snapshot files itself and queries them). A file that is not
 * readable Parquet (truncated, overwritten, not Parquet at all) would otherwise fail every reader
 * of the snapshots, the api's start among them, at every try: it is moved to
 * `<root>/quarantine/<same path>.corrupt` beside a note of the error, and `read` runs again
 * without it. Errors that no single file explains are rethrown untouched.
 *
 * Its records are gone from the snapshots; if it was a partition's newest file, a worker that
 * (re)takes the partition resumes after the previous file and rewrites them from the bus.
 */
export async function readingSnapshots<T>(
  root: string,
  read: () => Promise<T>,
  options: QuarantineOptions = {},
): Promise<T> {
  const moved = new Set<string>();
  for (;;) {
    try {
      return await read();
    } catch (error) {
      const quarantined = await quarantineUnreadable(root, error, options, moved);
      if (!quarantined) throw error;
      moved.add(quarantined.file);
    }
  }
}

/**
 * When `error` comes from a snapshot file DuckDB cannot read on its own, moves that file to the
 * quarantine, reports it and returns it; else null (the caller rethrows). Files in `skip` are
 * not moved again.
 */
export async function quarantineUnreadable(
  root: string,
  error: unknown,
  options: QuarantineOptions = {},
  skip: ReadonlySet<string> = new Set(),
): Promise<QuarantinedSnapshot | null> {
  const message = error instanceof Error ? error.message : String(error);
  const file = await unreadableSnapshotIn(root, message);
  if (!file || skip.has(file)) return null;
  const quarantined = await quarantineSnapshot(root, file, message);
  if (options.onQuarantine) options.onQuarantine(quarantined);
  else
    process.emitWarning(
      `unreadable snapshot file ${quarantined.file} moved to ${quarantined.movedTo}: ${quarantined.reason}`,
      "SnapshotQuarantine",
    );
  return quarantined;
}

/**
 * The snapshot file under `root` that an error message names and that DuckDB cannot read on its own, or
 * null. A file named by the error but readable alone (or gone: deleted by a compaction since it
 * was listed) is not blamed.
 */
async function unreadableSnapshotIn(root: string, message: string): Promise<string | null> {
  const tree = path.resolve(root) + path.sep;
  for (const [, named] of message.matchAll(/'([^']+\.parquet)'/g)) {
    const file = path.resolve(named!);
    if (!file.startsWith(tree) || file.startsWith(path.resolve(quarantineDir(root)))) continue;
    if (!(await stat(file).catch(() => null))?.isFile()) continue;
    if (!(await readableAlone(file))) return file;
  }
  return null;
}

async function readableAlone(file: string): Promise<boolean> {
  const connection = await duckConnection();
  try {
    await connection.run(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);
    return true;
  } catch {
    return false;
  } finally {
    connection.closeSync();
  }
}

/** Moves an unreadable snapshot file out of the snapshot tree, with a note of why, durably. */
async function quarantineSnapshot(
  root: string,
  file: string,
  reason: string,
): Promise<QuarantinedSnapshot> {
  const movedTo = `${path.join(quarantineDir(root), path.relative(path.resolve(root), file))}.corrupt`;
  await mkdir(path.dirname(movedTo), { recursive: true });
  await writeFile(
    `${movedTo}.reason.txt`,
    `${new Date().toISOString()} moved from ${file}\n${reason}\n`,
  );
  await rename(file, movedTo);
  await fsyncPath(path.dirname(movedTo));
  await fsyncPath(path.dirname(file));
  return { file, movedTo, reason };
}
