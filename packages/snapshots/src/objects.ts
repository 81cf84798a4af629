/**
 * Snapshot files in object storage: each Parquet file the worker or compaction makes durable on
 * its local root is uploaded under `snapshots/<topic=…/date=…/hour=…/part-….parquet>` (the same
 * relative path), and a file compaction or retention removes locally is removed there too, after
 * its replacement is uploaded. Training downloads the prefix into a directory for DuckDB.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { ObjectStorage } from "@reco/storage";
import { parseSnapshotPath } from "./layout.ts";

export const SNAPSHOT_PREFIX = "snapshots/";

/** The object key of a snapshot file under `root` (it must be a snapshot path under it). */
export function snapshotObjectKey(root: string, filePath: string): string {
  const relative = path.relative(root, filePath);
  if (relative.startsWith("..") || path.isAbsolute(relative) || !parseSnapshotPath(filePath))
    throw new Error(`${filePath} is not a snapshot file under ${root}`);
  return SNAPSHOT_PREFIX + relative.split(path.sep).join("/");
}

/** Uploads snapshot files (each put is atomic for readers); already-present equal sizes are kept. */
export async function uploadSnapshots(
  storage: ObjectStorage,
  root: string,
  files: readonly string[],
): Promise<string[]> {
  const uploaded: string[] = [];
  for (const file of files) {
    const key = snapshotObjectKey(root, file);
    const [local, remote] = await Promise.all([stat(file), storage.head(key)]);
    if (remote?.bytes === local.size) continue;
    await storage.putFile(key, file);
    uploaded.push(key);
  }
  return uploaded;
}

/** Removes the objects of snapshot files that were removed locally. */
export async function removeSnapshotObjects(
  storage: ObjectStorage,
  root: string,
  files: readonly string[],
): Promise<void> {
  for (const file of files) await storage.delete(snapshotObjectKey(root, file));
}

/**
 * Downloads every snapshot object into `targetRoot` (same layout); a file already there with the
 * object's size is not fetched again. Objects that are not snapshot files are left alone.
 */
export async function downloadSnapshots(
  storage: ObjectStorage,
  targetRoot: string,
): Promise<{ files: number; fetched: number }> {
  let files = 0;
  let fetched = 0;
  for (const object of await storage.list(SNAPSHOT_PREFIX)) {
    const relative = object.key.slice(SNAPSHOT_PREFIX.length);
    const target = path.join(targetRoot, ...relative.split("/"));
    if (!parseSnapshotPath(target)) continue;
    files += 1;
    const local = await stat(target).catch(() => undefined);
    if (local?.size === object.bytes) continue;
    if (await storage.getToFile(object.key, target)) fetched += 1;
  }
  return { files, fetched };
}
