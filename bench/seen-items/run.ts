/**
 * What serving's history costs at start and in memory on the demo data (or any snapshots): the time
 * to load it against a baseline measured in the same run (the same snapshot query, rows only), and
 * the heap the seen-items structure holds per interaction (every item of every user) beside the
 * whole history (seen items + the ordered recent list of the latest 1,000 per user).
 *
 *   node --expose-gc --import tsx bench/seen-items/run.ts [--snapshots DIR] [--repeat 3]
 *
 * Without --snapshots, the demo ratings (data/ml-latest-small) are written to one snapshot file in
 * a temporary directory first.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { DEMO_RATINGS } from "@reco/ml";
import { InteractionHistory, ItemDictionary, SeenItems } from "@reco/serving";
import { querySnapshots, toSnapshotRow, writeSnapshot } from "@reco/snapshots";

const { values } = parseArgs({
  options: { snapshots: { type: "string" }, repeat: { type: "string", default: "3" } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("run with node --expose-gc --import tsx bench/seen-items/run.ts");
  process.exit(1);
}
const repeat = Math.max(1, Number(values.repeat));
const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function demoSnapshots(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-seen-"));
  const root = path.join(dir, "snapshots");
  const lines = (await readFile(DEMO_RATINGS, "utf8")).split("\n").slice(1);
  const events: RateEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const [userId, movieId, rating, timestamp] = line.split(",");
    events.push({
      schemaVersion: SCHEMA_VERSION,
      eventId: `ml:${userId}:${movieId}:${timestamp}`,
      eventTime: new Date(Number(timestamp) * 1000).toISOString(),
      userId: userId!,
      type: "rate",
      itemId: movieId!,
      rating: Number(rating),
    });
  }
  await writeSnapshot(
    root,
    {
      topic: "reco.import.rate",
      partition: 0,
      firstOffset: 0n,
      lastOffset: BigInt(events.length - 1),
    },
    events.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
  );
  return { root, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const SQL = `SELECT user_id, item_id FROM {source}
  WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL
  ORDER BY event_time, event_id`;

/** Heap and array buffers in use, after collections spaced by turns of the event loop (finalizers). */
async function heapBytes(): Promise<number> {
  for (let i = 0; i < 4; i += 1) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const demo = values.snapshots ? undefined : await demoSnapshots();
const root = values.snapshots ?? demo!.root;
try {
  await querySnapshots(root, "SELECT count(*) AS n FROM {source}"); // DuckDB warmed up
  const baseline: number[] = [];
  const load: number[] = [];
  let rows: { user_id: string; item_id: string }[] = [];
  for (let r = 0; r < repeat; r += 1) {
    let started = performance.now();
    rows = await querySnapshots<{ user_id: string; item_id: string }>(root, SQL);
    baseline.push(performance.now() - started);
    started = performance.now();
    await InteractionHistory.fromSnapshots(root);
    load.push(performance.now() - started);
  }

  // Memory: each structure held alive while measured, built from rows already read.
  const pairs = rows.map((row) => [row.user_id, row.item_id] as const);
  rows = [];
  const keep: unknown[] = [];
  let before = await heapBytes();
  const history = await InteractionHistory.fromSnapshots(root);
  keep.push(history);
  const historyBytes = (await heapBytes()) - before;

  before = await heapBytes();
  const seen = new SeenItems();
  const byUser = new Map<string, number[]>();
  for (const [user, item] of pairs) {
    let numbers = byUser.get(user);
    if (!numbers) byUser.set(user, (numbers = []));
    numbers.push(seen.dictionary.intern(item));
  }
  seen.load(byUser);
  byUser.clear();
  keep.push(seen);
  const seenBytes = (await heapBytes()) - before;
  const interactions = seen.interactions;

  before = await heapBytes();
  const dictionary = new ItemDictionary();
  for (const [, item] of pairs) dictionary.intern(item);
  keep.push(dictionary);
  const dictionaryBytes = (await heapBytes()) - before;

  console.log(
    `${pairs.length.toLocaleString()} interaction events, ${interactions.toLocaleString()} distinct (user, item), ${seen.userCount} users, ${seen.dictionary.size.toLocaleString()} items\n`,
  );
  console.log("| step | ms (median) | × baseline |");
  console.log("|---|---:|---:|");
  console.log(
    `| baseline: the snapshot query (rows only) | ${median(baseline).toFixed(0)} | 1.00 |`,
  );
  console.log(
    `| InteractionHistory.fromSnapshots | ${median(load).toFixed(0)} | ${(median(load) / median(baseline)).toFixed(2)} |`,
  );
  console.log("\n| structure | heap bytes | bytes per distinct interaction |");
  console.log("|---|---:|---:|");
  console.log(
    `| seen items (dictionary + per-user Int32Array) | ${seenBytes.toLocaleString()} | ${(seenBytes / interactions).toFixed(1)} |`,
  );
  console.log(
    `| of which the item dictionary (per item, not per interaction) | ${dictionaryBytes.toLocaleString()} | ${(dictionaryBytes / interactions).toFixed(1)} |`,
  );
  console.log(
    `| of which the per-user arrays | ${(seenBytes - dictionaryBytes).toLocaleString()} | ${((seenBytes - dictionaryBytes) / interactions).toFixed(1)} |`,
  );
  console.log(
    `| whole history (seen items + recent lists ≤ 1,000 per user) | ${historyBytes.toLocaleString()} | ${(historyBytes / interactions).toFixed(1)} |`,
  );
  if (keep.length !== 3 || history.users === 0) throw new Error("no history loaded");
} finally {
  await demo?.cleanup();
}
