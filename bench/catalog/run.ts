/**
 * What one catalog batch costs the stream worker: apply the batch's changes to the partition's
 * catalog snapshot and rewrite the file (temp → fsync → rename) — "warm", the steady state, with
 * the entries held from the previous batch (`CatalogPartitionCache`); "cold", the first batch
 * after a start or rebalance, reading the file first — against the baseline of the same number of
 * events written as one event snapshot file (`writeSnapshot`), in the same run. The catalog cost
 * grows with the partition's item count (the whole file is rewritten); the baseline does not.
 * Memory: RSS and heap in use after each size.
 *
 *   npx tsx bench/catalog/run.ts                          # 1k, 10k, 100k items per partition
 *   npx tsx bench/catalog/run.ts --items 1000,300000 --batch 500 --rounds 5
 *
 * Rounds alternate catalog batch and baseline; the median of each and the median per-round ratio
 * are printed, so a slow spell of the machine hits both sides.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { CatalogChange, WatchEvent } from "@reco/contracts";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import {
  CatalogPartitionCache,
  applyCatalogChange,
  catalogPartitionFile,
  readCatalogPartition,
  writeCatalogPartition,
  type CatalogEntry,
} from "@reco/stream";

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "1000,10000,100000" },
    batch: { type: "string", default: "500" },
    rounds: { type: "string", default: "5" },
  },
});
const sizes = values.items.split(",").map(Number);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
if (sizes.some((n) => !(n > 0)) || !(batchSize > 0) || !(rounds > 0)) {
  console.error("--items (a comma list), --batch and --rounds must be positive numbers");
  process.exit(1);
}

const GENRES = ["Drama", "Comedy", "Thriller", "Animation", "Documentary", "Horror"];
const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();

function change(i: number, version: number): CatalogChange {
  return {
    type: "catalog.item",
    itemId: `item-${i}`,
    title: `A movie with a title of several words, number ${i}, version ${version}`,
    genres: [GENRES[i % GENRES.length]!, GENRES[(i * 7) % GENRES.length]!],
    tags: [`tag-${i % 97}`, `tag-${i % 13}`],
    year: 1950 + (i % 75),
    available: true,
    availableFrom: null,
    availableUntil: null,
    deletedAt: null,
    updatedAt: minute(version),
    createdAt: minute(0),
  };
}

const entry = (c: CatalogChange, offset: number): CatalogEntry => ({
  change: c,
  updatedAtMs: Date.parse(c.updatedAt),
  partition: 0,
  offset: BigInt(offset),
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const root = await mkdtemp(path.join(tmpdir(), "bench-catalog-"));
console.log(
  `catalog batch of ${batchSize} changes vs ${batchSize} events in one event file; ${rounds} rounds, medians`,
);
console.log(
  "items/partition  warm ms  cold ms  events ms  warm ratio  cold ratio  file MiB  rss MiB  heap MiB",
);
try {
  for (const size of sizes) {
    const items = new Map<string, CatalogEntry>();
    for (let i = 0; i < size; i++) applyCatalogChange(items, entry(change(i, 1), i));
    await writeCatalogPartition(root, 0, items);
    let offset = size;
    const warmMs: number[] = [];
    const coldMs: number[] = [];
    const eventMs: number[] = [];
    const warmRatios: number[] = [];
    const coldRatios: number[] = [];
    const files = new CatalogPartitionCache(root);
    await files.write(0, items);
    let version = 2;
    const batch = async (current: Map<string, CatalogEntry>) => {
      for (let n = 0; n < batchSize; n++) {
        const i = (version * batchSize + n * 7919) % size;
        applyCatalogChange(current, entry(change(i, version), offset++));
      }
      version++;
    };
    for (let round = 0; round < rounds; round++) {
      // What the worker does for one delivered batch (catalog-follower.ts `handle`).
      const warmStarted = performance.now();
      const held = await files.load(0);
      await batch(held);
      await files.write(0, held);
      const warm = performance.now() - warmStarted;

      const coldStarted = performance.now();
      const read = await readCatalogPartition(root, 0);
      await batch(read);
      await writeCatalogPartition(root, 0, read);
      const cold = performance.now() - coldStarted;
      files.forget(0);

      const events: WatchEvent[] = Array.from({ length: batchSize }, (_, n) => ({
        schemaVersion: 1,
        type: "watch",
        eventId: `ev-${size}-${round}-${n}`,
        eventTime: minute(n),
        userId: `user-${n % 101}`,
        itemId: `item-${n}`,
        progress: 0.5,
      }));
      const baselineStarted = performance.now();
      await writeSnapshot(
        path.join(root, `events-${size}`),
        {
          topic: "bench.events.watch",
          partition: 0,
          firstOffset: BigInt(round * batchSize),
          lastOffset: BigInt((round + 1) * batchSize - 1),
        },
        events.map((e, n) => toSnapshotRow(e, { partition: 0, offset: round * batchSize + n })),
      );
      const baseline = performance.now() - baselineStarted;
      warmMs.push(warm);
      coldMs.push(cold);
      eventMs.push(baseline);
      warmRatios.push(warm / baseline);
      coldRatios.push(cold / baseline);
    }
    const fileBytes = (await stat(catalogPartitionFile(root, 0))).size;
    const memory = process.memoryUsage();
    console.log(
      [
        String(size).padStart(15),
        median(warmMs).toFixed(1).padStart(8),
        median(coldMs).toFixed(1).padStart(8),
        median(eventMs).toFixed(1).padStart(10),
        median(warmRatios).toFixed(1).padStart(11),
        median(coldRatios).toFixed(1).padStart(11),
        mib(fileBytes).padStart(9),
        mib(memory.rss).padStart(8),
        mib(memory.heapUsed).padStart(9),
      ].join(" "),
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
