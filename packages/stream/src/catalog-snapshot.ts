import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { catalogChangeSchema, describeZodError, type CatalogChange } from "@reco/contracts";
import {
  duckConnection,
  fsyncPath,
  pathExists,
  quarantineDir,
  renameDurably,
  snapshotWriterConnection,
  sqlString,
} from "@reco/snapshots";
import { z } from "zod";

/**
 * The catalog snapshot: the latest state of every item the catalog topic told about, one Parquet
 * file per topic partition (an item id always hashes to one partition, so each file has one
 * writer, the partition's owner): `<root>/catalog/partition-<N>.parquet`. Not under a `topic=`
 * directory, so the event snapshot tools (compaction, retention, erasure) leave it alone.
 */
export function catalogSnapshotDir(root: string): string {
  return path.join(root, "catalog");
}

export function catalogPartitionFile(root: string, partition: number): string {
  return path.join(catalogSnapshotDir(root), `partition-${partition}.parquet`);
}

/** One item's latest change and where it came from (the order of two changes of equal time). */
export interface CatalogEntry {
  change: CatalogChange;
  updatedAtMs: number;
  partition: number;
  offset: bigint;
}

const isoTime = z.iso.datetime({ offset: true });
const TIME_FIELDS = [
  "updatedAt",
  "createdAt",
  "availableFrom",
  "availableUntil",
  "deletedAt",
] as const;

/** A catalog message's bytes → a change, or the reason it is not one (for the dead letter). */
export function parseCatalogChange(
  value: Buffer,
): { ok: true; change: CatalogChange; updatedAtMs: number } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: `bad json: ${(error as Error).message}` };
  }
  const parsed = catalogChangeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `invalid: ${describeZodError(parsed.error)}` };
  const change = parsed.data;
  // The schema takes any string; the snapshot stores times, and the order needs updatedAt.
  for (const field of TIME_FIELDS) {
    const text = change[field];
    if (text === null || text === undefined) continue;
    if (!isoTime.safeParse(text).success || Number.isNaN(Date.parse(text)))
      return {
        ok: false,
        reason: `invalid: ${field}: not an ISO-8601 time (${JSON.stringify(text).slice(0, 80)})`,
      };
  }
  return { ok: true, change, updatedAtMs: Date.parse(change.updatedAt) };
}

/**
 * Applies one change when it is not older than what `items` holds for its id: a later
 * `updatedAt` wins; of equal ones, the later position on the topic. A redelivered or reordered
 * older change does nothing, so applying a batch twice gives the same state. True when applied.
 */
export function applyCatalogChange(items: Map<string, CatalogEntry>, entry: CatalogEntry): boolean {
  const held = items.get(entry.change.itemId);
  if (held) {
    if (entry.updatedAtMs < held.updatedAtMs) return false;
    if (entry.updatedAtMs === held.updatedAtMs) {
      if (entry.partition === held.partition && entry.offset <= held.offset) return false;
    }
  }
  items.set(entry.change.itemId, entry);
  return true;
}

/** The columns of a catalog snapshot file, as readers (training) see them. */
export const CATALOG_COLUMNS = [
  ["item_id", "VARCHAR"],
  ["title", "VARCHAR"],
  ["genres", "VARCHAR[]"],
  ["tags", "VARCHAR[]"],
  ["year", "INTEGER"],
  ["available", "BOOLEAN"],
  ["available_from", "TIMESTAMP"],
  ["available_until", "TIMESTAMP"],
  ["deleted_at", "TIMESTAMP"],
  ["updated_at", "TIMESTAMP"],
  ["created_at", "TIMESTAMP"],
  ["payload", "VARCHAR"],
  ["partition", "INTEGER"],
  ["offset", "BIGINT"],
] as const;

const utc = (text: string | null | undefined) =>
  text === null || text === undefined ? null : new Date(text).toISOString().replace("Z", "");

/** The shape DuckDB reads each row from: times already normalised to UTC, as the event snapshots. */
const ROW_SHAPE = JSON.stringify({
  itemId: "VARCHAR",
  title: "VARCHAR",
  genres: ["VARCHAR"],
  tags: ["VARCHAR"],
  year: "INTEGER",
  available: "BOOLEAN",
  availableFrom: "TIMESTAMP",
  availableUntil: "TIMESTAMP",
  deletedAt: "TIMESTAMP",
  updatedAt: "TIMESTAMP",
  createdAt: "TIMESTAMP",
  partition: "INTEGER",
  offset: "BIGINT",
});

/**
 * Rewrites a partition's catalog file with `items` (sorted by id), atomically: temp name →
 * fsync → rename → fsync dir, so a reader or a restarted worker sees the old or the new state,
 * never a torn one.
 */
export async function writeCatalogPartition(
  root: string,
  partition: number,
  items: ReadonlyMap<string, CatalogEntry>,
): Promise<string> {
  const dir = catalogSnapshotDir(root);
  await mkdir(dir, { recursive: true });
  const finalPath = catalogPartitionFile(root, partition);
  const tempPath = path.join(dir, `.tmp-${randomUUID()}.parquet`);
  const table = `catalog_${randomUUID().replaceAll("-", "")}`;
  const connection = await snapshotWriterConnection();
  try {
    await connection.run(`CREATE TABLE ${table} ("row" VARCHAR, payload VARCHAR)`);
    const appender = await connection.createAppender(table);
    for (const id of [...items.keys()].sort()) {
      const { change, partition: from, offset } = items.get(id)!;
      appender.appendVarchar(
        JSON.stringify({
          ...change,
          availableFrom: utc(change.availableFrom),
          availableUntil: utc(change.availableUntil),
          deletedAt: utc(change.deletedAt),
          updatedAt: utc(change.updatedAt),
          createdAt: utc(change.createdAt),
          partition: from,
          offset: Number(offset),
        }),
      );
      appender.appendVarchar(JSON.stringify(change));
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(
      `COPY (SELECT j.itemId AS item_id, j.title AS title, j.genres AS genres, j.tags AS tags,
                    j.year AS year, j.available AS available, j.availableFrom AS available_from,
                    j.availableUntil AS available_until, j.deletedAt AS deleted_at,
                    j.updatedAt AS updated_at, j.createdAt AS created_at, payload,
                    j.partition AS "partition", j.offset AS "offset"
               FROM (SELECT json_transform("row", ${sqlString(ROW_SHAPE)}) AS j, payload FROM ${table}))
         TO ${sqlString(tempPath)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    await renameDurably(tempPath, finalPath);
    return finalPath;
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    connection.closeSync();
  }
}

export class CatalogSnapshotUnreadable extends Error {
  override name = "CatalogSnapshotUnreadable";
}

/** A partition's catalog file as entries by item id; empty when there is none yet. */
export async function readCatalogPartition(
  root: string,
  partition: number,
): Promise<Map<string, CatalogEntry>> {
  const file = catalogPartitionFile(root, partition);
  const items = new Map<string, CatalogEntry>();
  if (!(await pathExists(file))) return items;
  const connection = await duckConnection();
  try {
    const reader = await connection
      .runAndReadAll(
        `SELECT payload, "partition", CAST("offset" AS VARCHAR) FROM read_parquet(${sqlString(file)})`,
      )
      .catch((error: Error) => {
        throw new CatalogSnapshotUnreadable(
          `catalog snapshot ${file} is unreadable: ${error.message}`,
        );
      });
    for (const [index, row] of reader.getRowsJS().entries()) {
      const [payload, from, offset] = row as [string, number, string];
      const parsed = parseCatalogChange(Buffer.from(payload));
      if (!parsed.ok)
        throw new CatalogSnapshotUnreadable(
          `catalog snapshot ${file}, row ${index + 1}: ${parsed.reason}`,
        );
      applyCatalogChange(items, {
        change: parsed.change,
        updatedAtMs: parsed.updatedAtMs,
        partition: from,
        offset: BigInt(offset),
      });
    }
  } finally {
    connection.closeSync();
  }
  return items;
}

/** Changes whenever the file is replaced (every rewrite renames a new inode into place). */
async function fileSignature(file: string): Promise<string> {
  const info = await stat(file, { bigint: true }).catch(() => null);
  return info ? `${info.ino}:${info.size}:${info.mtimeNs}` : "none";
}

/**
 * The partition files as this process last wrote them, so a batch does not read back what it
 * holds already (reading is most of a batch's cost on a large catalog: bench/catalog). A file
 * replaced by anyone else since (a previous owner's late write) no longer matches and is read.
 */
export class CatalogPartitionCache {
  private readonly held = new Map<
    number,
    { items: Map<string, CatalogEntry>; signature: string }
  >();

  constructor(private readonly root: string) {}

  /** The partition's entries, to be changed in place and then passed to `write` (or `forget`). */
  async load(partition: number): Promise<Map<string, CatalogEntry>> {
    const cached = this.held.get(partition);
    this.held.delete(partition); // until written back: a failed write must not leave it half-applied
    if (
      cached &&
      cached.signature === (await fileSignature(catalogPartitionFile(this.root, partition)))
    )
      return cached.items;
    return readCatalogPartition(this.root, partition);
  }

  async write(partition: number, items: Map<string, CatalogEntry>): Promise<void> {
    const file = await writeCatalogPartition(this.root, partition, items);
    this.held.set(partition, { items, signature: await fileSignature(file) });
  }

  /** Keeps the entries (unchanged since `load`) without writing. */
  async keep(partition: number, items: Map<string, CatalogEntry>): Promise<void> {
    const signature = await fileSignature(catalogPartitionFile(this.root, partition));
    if (signature !== "none") this.held.set(partition, { items, signature });
  }

  forget(partition: number): void {
    this.held.delete(partition);
  }
}

/**
 * Moves an unreadable partition file to `<root>/quarantine/catalog/partition-<N>.<time>.corrupt`
 * (kept for a look, never read again); returns where it went.
 */
export async function quarantineCatalogPartition(root: string, partition: number): Promise<string> {
  const dir = path.join(quarantineDir(root), "catalog");
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replaceAll(":", "-");
  const movedTo = path.join(dir, `partition-${partition}.${stamp}.corrupt`);
  await rename(catalogPartitionFile(root, partition), movedTo);
  await fsyncPath(dir);
  await fsyncPath(catalogSnapshotDir(root));
  return movedTo;
}

/** Every partition file's entries, merged by the same rule (an item seen in two files: the newer). */
export async function readCatalogSnapshot(root: string): Promise<Map<string, CatalogEntry>> {
  const names = await readdir(catalogSnapshotDir(root)).catch(() => [] as string[]);
  const merged = new Map<string, CatalogEntry>();
  for (const name of names.sort()) {
    const match = /^partition-(\d+)\.parquet$/.exec(name);
    if (!match) continue;
    for (const entry of (await readCatalogPartition(root, Number(match[1]))).values())
      applyCatalogChange(merged, entry);
  }
  return merged;
}
