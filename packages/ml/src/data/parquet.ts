import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { BadInput } from "@reco/contracts";
import { listSnapshotFiles } from "@reco/snapshots/layout";
import { type InteractionLog, LogBuilder } from "./log.ts";

export interface SnapshotOptions {
  /** event types that count as interactions */
  types?: string[];
  /** only events at or after / before these times (seconds since the epoch) */
  from?: number;
  to?: number;
  /** events of these items are left out (the catalog snapshot's deleted items) */
  excludeItems?: ReadonlySet<string>;
}

export interface SnapshotReport {
  root: string;
  events: number;
  /** first and last event time (seconds), the training data range */
  firstTime: number;
  lastTime: number;
}

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Reads interaction events from the Parquet snapshots under `root`
 * (`topic=…/date=…/hour=…/*.parquet`; the catalog snapshot beside them holds no events).
 * Duplicate deliveries of one event_id count once; files still being written (`.tmp-*`) are
 * not listed, and a listed file that a compaction replaced meanwhile makes the read start again
 * from a fresh listing. `value` is a rating only for `rate` events.
 */
export async function loadSnapshots(
  root: string,
  options: SnapshotOptions = {},
): Promise<{ log: InteractionLog; report: SnapshotReport }> {
  try {
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new BadInput(`cannot read snapshot directory ${root}: ${(error as Error).message}`);
  }
  const types = options.types ?? ["rate", "watch", "click"];
  if (types.length === 0 || types.some((type) => !/^[a-z._-]+$/.test(type))) {
    throw new BadInput(`invalid event types ${JSON.stringify(types)}`);
  }
  const filters = [
    `type IN (${types.map(sqlString).join(", ")})`,
    "user_id IS NOT NULL",
    "item_id IS NOT NULL",
    "event_time IS NOT NULL",
  ];
  if (options.from !== undefined) filters.push(`epoch(event_time) >= ${Number(options.from)}`);
  if (options.to !== undefined) filters.push(`epoch(event_time) < ${Number(options.to)}`);
  for (let attempt = 1; ; attempt += 1) {
    // Listed, not globbed: a glob also matches the worker's `.tmp-*` files, which are renamed
    // away while DuckDB opens them.
    const files = (await listSnapshotFiles(path.resolve(root))).map((file) => file.path);
    if (files.length === 0) throw new BadInput(`no Parquet snapshot files under ${root}`);
    try {
      return await readSnapshotFiles(root, files, filters, types, options.excludeItems);
    } catch (error) {
      const vanished = await firstMissing(files);
      if (vanished === undefined || attempt >= 5) throw error;
    }
  }
}

/** The first of `files` that no longer exists (a compaction replaced it since it was listed). */
async function firstMissing(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    try {
      await stat(file);
    } catch {
      return file;
    }
  }
  return undefined;
}

async function readSnapshotFiles(
  root: string,
  files: readonly string[],
  filters: readonly string[],
  types: readonly string[],
  excludeItems: ReadonlySet<string> | undefined,
): Promise<{ log: InteractionLog; report: SnapshotReport }> {
  const sql = `
    SELECT user_id, item_id, CASE WHEN type = 'rate' THEN value END AS rating,
           epoch(event_time) AS t, device, country
      FROM read_parquet([${files.map(sqlString).join(", ")}], hive_partitioning = true, union_by_name = true)
     WHERE ${filters.join(" AND ")}
   QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY "offset") = 1
     ORDER BY event_time, event_id`;

  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  const builder = new LogBuilder();
  let firstTime = Infinity;
  let lastTime = -Infinity;
  try {
    const result = await connection.stream(sql).catch((error: Error) => {
      throw new BadInput(`cannot read snapshots under ${root}: ${error.message}`);
    });
    for await (const rows of result.yieldRowsJs()) {
      for (const row of rows) {
        const [userId, itemId, rating, time, device, country] = row as [
          string,
          string,
          number | null,
          number,
          string | null,
          string | null,
        ];
        if (excludeItems?.has(itemId)) continue;
        builder.add(userId, itemId, rating ?? Number.NaN, time, { device, country });
        if (time < firstTime) firstTime = time;
        if (time > lastTime) lastTime = time;
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  if (builder.length === 0) throw new BadInput(`no interaction events (${types.join(", ")}) in snapshots under ${root}`);
  return { log: builder.finish(), report: { root, events: builder.length, firstTime, lastTime } };
}

/** One item as the catalog snapshot holds it (its latest change on the catalog topic). */
export interface CatalogSnapshotItem {
  title: string;
  /** the item's genres, as categories */
  categories: string[];
  tags: string[];
  year: number | null;
  available: boolean;
  /** seconds since the epoch; null when unbounded / not deleted */
  availableFrom: number | null;
  availableUntil: number | null;
  deletedAt: number | null;
}

export interface CatalogSnapshot {
  items: Map<string, CatalogSnapshotItem>;
  /** the files read (`<root>/catalog/partition-<N>.parquet`) */
  files: number;
}

/** Deleted, switched off, or outside its availability window at `now` (seconds). */
export function isItemUnavailable(item: CatalogSnapshotItem, now: number): boolean {
  return (
    item.deletedAt !== null ||
    !item.available ||
    (item.availableFrom !== null && now < item.availableFrom) ||
    (item.availableUntil !== null && now >= item.availableUntil)
  );
}

/**
 * Reads the catalog snapshot the stream worker keeps under `<root>/catalog/` (one file per catalog
 * topic partition, the latest state of each item; layout in packages/stream/README.md). An item
 * found in two files (the topic was repartitioned) counts at its latest `updated_at`. Null when the
 * root has no catalog snapshot (a worker that never saw a catalog change, or an older one).
 */
export async function loadCatalogSnapshot(root: string): Promise<CatalogSnapshot | null> {
  const dir = path.join(path.resolve(root), "catalog");
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = names.filter((name) => /^partition-\d+\.parquet$/.test(name));
  if (files.length === 0) return null;
  const list = files.map((name) => sqlString(path.join(dir, name))).join(", ");
  const sql = `
    SELECT item_id, title, genres, tags, year, available,
           epoch(available_from) AS available_from, epoch(available_until) AS available_until,
           epoch(deleted_at) AS deleted_at
      FROM read_parquet([${list}], hive_partitioning = false, union_by_name = true)
   QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY updated_at DESC, "offset" DESC) = 1`;
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  const items = new Map<string, CatalogSnapshotItem>();
  try {
    const reader = await connection.runAndReadAll(sql).catch((error: Error) => {
      throw new BadInput(`cannot read the catalog snapshot under ${dir}: ${error.message}`);
    });
    for (const row of reader.getRowObjectsJS()) {
      const id = row.item_id;
      if (typeof id !== "string" || id === "")
        throw new BadInput(`catalog snapshot under ${dir}: a row without item_id`);
      const time = (value: unknown) => (value === null ? null : Number(value));
      items.set(id, {
        title: String(row.title ?? ""),
        categories: ((row.genres as string[] | null) ?? []).map(String),
        tags: ((row.tags as string[] | null) ?? []).map(String),
        year: row.year === null ? null : Number(row.year),
        available: row.available === true,
        availableFrom: time(row.available_from),
        availableUntil: time(row.available_until),
        deletedAt: time(row.deleted_at),
      });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { items, files: files.length };
}
