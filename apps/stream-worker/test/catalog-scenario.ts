import type { ChildProcess } from "node:child_process";
import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { EventBus, OutgoingMessage } from "@reco/bus";
import type { CatalogChange, TopicNames } from "@reco/contracts";
import { duckConnection, sqlString } from "@reco/snapshots";
import { freePort, waitFor } from "@reco/testkit";
import { killHard, sleep, spawnWorker, stopGracefully } from "./helpers.ts";

/** A catalog change with the fields a test does not care about filled in. */
export function change(
  fields: Partial<CatalogChange> & Pick<CatalogChange, "itemId" | "updatedAt">,
): CatalogChange {
  return {
    type: "catalog.item",
    title: fields.itemId,
    genres: [],
    tags: [],
    year: null,
    available: true,
    availableFrom: null,
    availableUntil: null,
    deletedAt: null,
    ...fields,
  };
}

/** Keyed by item id, as the item API publishes (`ItemService`). */
export function publishChanges(bus: EventBus, topics: TopicNames, changes: CatalogChange[]) {
  const messages: OutgoingMessage[] = changes.map((c) => ({ key: c.itemId, value: c }));
  return bus.publishBatch(topics.catalog, messages);
}

export interface CatalogRow {
  item_id: string;
  title: string;
  genres: string[];
  tags: string[];
  year: number | null;
  available: boolean;
  available_from: string | null;
  available_until: string | null;
  deleted_at: string | null;
  updated_at: string;
}

/**
 * Every row of the catalog snapshot files, read with plain SQL (not through the worker's code),
 * times as UTC text: what a training job would see.
 */
export async function catalogRows(snapshotRoot: string): Promise<CatalogRow[]> {
  const glob = path.join(snapshotRoot, "catalog", "partition-*.parquet");
  const connection = await duckConnection();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT item_id, title, genres, tags, year, available,
              strftime(available_from, '%Y-%m-%d %H:%M:%S') AS available_from,
              strftime(available_until, '%Y-%m-%d %H:%M:%S') AS available_until,
              strftime(deleted_at, '%Y-%m-%d %H:%M:%S') AS deleted_at,
              strftime(updated_at, '%Y-%m-%d %H:%M:%S') AS updated_at
         FROM read_parquet(${sqlString(glob)}) ORDER BY item_id`,
    );
    return reader.getRowObjectsJS() as unknown as CatalogRow[];
  } catch (error) {
    if (/No files found/i.test((error as Error).message)) return [];
    throw error;
  } finally {
    connection.closeSync();
  }
}

/**
 * The hand-written story of the catalog tests: three items created, one updated, one deleted,
 * then the first item's original (older) change again, as a redelivery or a reordering would
 * bring it. `expectedAfterStory` is the state written out by hand.
 */
export const story: CatalogChange[] = [
  change({
    itemId: "alpha",
    title: "Alpha",
    genres: ["Drama"],
    year: 1999,
    updatedAt: "2026-03-01T10:00:00.000Z",
  }),
  change({
    itemId: "beta",
    title: "Beta",
    genres: ["Comedy"],
    tags: ["funny"],
    updatedAt: "2026-03-01T10:00:00.000Z",
  }),
  change({
    itemId: "gamma",
    title: "Gamma",
    available: false,
    // Another time zone: stored in UTC, as the event snapshots store event times.
    availableFrom: "2026-04-01T00:00:00+02:00",
    updatedAt: "2026-03-01T10:00:00.000Z",
  }),
  change({
    itemId: "alpha",
    title: "Alpha (Director's Cut)",
    genres: ["Drama", "Thriller"],
    tags: ["noir"],
    year: 1999,
    updatedAt: "2026-03-01T11:00:00.000Z",
  }),
  change({
    itemId: "beta",
    title: "Beta",
    genres: ["Comedy"],
    tags: ["funny"],
    available: false,
    deletedAt: "2026-03-01T11:30:00.000Z",
    updatedAt: "2026-03-01T11:30:00.000Z",
  }),
  change({
    itemId: "alpha",
    title: "Alpha",
    genres: ["Drama"],
    year: 1999,
    updatedAt: "2026-03-01T10:00:00.000Z",
  }),
];

export const expectedAfterStory: CatalogRow[] = [
  {
    item_id: "alpha",
    title: "Alpha (Director's Cut)",
    genres: ["Drama", "Thriller"],
    tags: ["noir"],
    year: 1999,
    available: true,
    available_from: null,
    available_until: null,
    deleted_at: null,
    updated_at: "2026-03-01 11:00:00",
  },
  {
    item_id: "beta",
    title: "Beta",
    genres: ["Comedy"],
    tags: ["funny"],
    year: null,
    available: false,
    available_from: null,
    available_until: null,
    deleted_at: "2026-03-01 11:30:00",
    updated_at: "2026-03-01 11:30:00",
  },
  {
    item_id: "gamma",
    title: "Gamma",
    genres: [],
    tags: [],
    year: null,
    available: false,
    available_from: "2026-03-31 22:00:00",
    available_until: null,
    deleted_at: null,
    updated_at: "2026-03-01 10:00:00",
  },
];

/** Malformed catalog messages and the start of the reason each dead letter must carry. */
export const malformed: { bytes: Buffer; reason: RegExp }[] = [
  { bytes: Buffer.from("{not json"), reason: /^bad json/ },
  {
    bytes: Buffer.from(JSON.stringify({ type: "catalog.item", title: "no id" })),
    reason: /^invalid: itemId: /,
  },
  {
    bytes: Buffer.from(JSON.stringify(change({ itemId: "alpha", updatedAt: "yesterday" }))),
    reason: /^invalid: updatedAt: not an ISO-8601 time \("yesterday"\)/,
  },
];

/**
 * The crash story: `items` items, each changed `versions` times (version v at minute v, the last
 * version of every tenth item a delete), published in rounds with older versions redelivered.
 * The end state follows from the rule by hand: every item at its last version.
 */
export function crashStory(items: number, versions: number): CatalogChange[][] {
  const rounds: CatalogChange[][] = [];
  const version = (i: number, v: number) => {
    const deleted = v === versions && i % 10 === 0;
    return change({
      itemId: `item-${String(i).padStart(4, "0")}`,
      title: `item ${i} v${v}`,
      genres: [`genre-${v}`],
      available: !deleted,
      deletedAt: deleted ? new Date(Date.UTC(2026, 2, 1, 0, v)).toISOString() : null,
      updatedAt: new Date(Date.UTC(2026, 2, 1, 0, v)).toISOString(),
    });
  };
  for (let v = 1; v <= versions; v++) {
    const round: CatalogChange[] = [];
    for (let i = 0; i < items; i++) {
      round.push(version(i, v));
      if (v > 1 && i % 3 === 0) round.push(version(i, v - 1)); // an older change again
    }
    rounds.push(round);
  }
  return rounds;
}

/** What the crash story leaves, written out from its rule (not from the worker's code). */
export function expectedAfterCrashStory(items: number, versions: number): Partial<CatalogRow>[] {
  return Array.from({ length: items }, (_, i) => ({
    item_id: `item-${String(i).padStart(4, "0")}`,
    title: `item ${i} v${versions}`,
    genres: [`genre-${versions}`],
    available: i % 10 !== 0,
    deleted_at: i % 10 === 0 ? `2026-03-01 00:${String(versions).padStart(2, "0")}:00` : null,
    updated_at: `2026-03-01 00:${String(versions).padStart(2, "0")}:00`,
  }));
}

/**
 * Publishes the crash story round by round while a worker child (src/main.ts) is SIGKILLed
 * `kills` times, each right after a catalog file lands (between the rename and the commit, the
 * window that would lose or duplicate); a new child starts at once. Waits until the snapshot
 * holds `expected`, then stops the last child gracefully; returns its exit code.
 */
export async function runCatalogCrashScenario(options: {
  bus: EventBus;
  topics: TopicNames;
  snapshotRoot: string;
  workerEnv: Record<string, string>;
  rounds: CatalogChange[][];
  kills: number;
  matches: (rows: CatalogRow[]) => boolean;
  timeoutMs: number;
}): Promise<{ kills: number; exitCode: number | null }> {
  let port = 0;
  const start = async () => {
    port = await freePort();
    return spawnWorker({ ...options.workerEnv, WORKER_PORT: String(port) });
  };
  await mkdir(path.join(options.snapshotRoot, "catalog"), { recursive: true });
  let child: ChildProcess = await start();
  let kills = 0;
  try {
    const killer = (async () => {
      for (let k = 0; k < options.kills; k++) {
        await sleep(1_000 + Math.random() * 2_000);
        await nextCatalogFile(options.snapshotRoot, 10_000);
        await killHard(child);
        kills++;
        child = await start();
      }
    })();
    for (const round of options.rounds) {
      for (let from = 0; from < round.length; from += 50) {
        await publishChanges(options.bus, options.topics, round.slice(from, from + 50));
        await sleep(100);
      }
    }
    await killer;
    let last: CatalogRow[] = [];
    await waitFor(
      async () => {
        last = await catalogRows(options.snapshotRoot);
        return options.matches(last);
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 500,
        description: () => `the catalog snapshot to reach the expected state (${last.length} rows)`,
      },
    );
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.ok,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 250, description: "the last worker to be running" },
    );
    return { kills, exitCode: await stopGracefully(child) };
  } finally {
    await killHard(child);
  }
}

function nextCatalogFile(root: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(path.join(root, "catalog"), (_event, name) => {
      if (name && /^partition-\d+\.parquet$/.test(name.toString())) done();
    });
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
  });
}
