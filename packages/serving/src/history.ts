import path from "node:path";
import { duckConnection, listSnapshotFiles, readingSnapshots, sqlString } from "@reco/snapshots";
import { SeenItems, type SeenSet } from "./seen.ts";

/** Most recent items kept in order per user: enough for fold-in (which uses the latest 200). */
const MAX_RECENT_PER_USER = 1000;

type InteractionRow = { user_id: string; item_id: string };

/**
 * The interactions of every snapshot file not in `skip`, in time order, and which files were read
 * and which exist. Listed inside the read, so a file quarantined on the way is left out on retry.
 */
async function readInteractions(
  root: string,
  skip: ReadonlySet<string>,
): Promise<{ rows: InteractionRow[]; read: string[]; present: string[] }> {
  return readingSnapshots(root, async () => {
    const present = (await listSnapshotFiles(root)).map((file) => path.resolve(file.path));
    const read = present.filter((file) => !skip.has(file));
    if (read.length === 0) return { rows: [], read, present };
    const connection = await duckConnection();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT user_id, item_id
           FROM read_parquet([${read.map(sqlString).join(", ")}], hive_partitioning = false)
          WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL
          ORDER BY event_time, event_id`,
      );
      return { rows: reader.getRowObjectsJS() as InteractionRow[], read, present };
    } finally {
      connection.closeSync();
    }
  });
}

interface UserHistory {
  /** The latest distinct items, oldest first (interned strings, shared with the dictionary). */
  recent: string[];
  version: number;
}

/**
 * What each user interacted with: loaded from the snapshots at start and extended by the feedback
 * this process receives (and, with a shared store, by what other instances received). Two views:
 * every item ever seen (`seen`, compact and complete: exclusion) and the latest distinct items in
 * order (`items`, bounded: fold-in and cold/warm routing).
 */
export class InteractionHistory {
  readonly seenItems = new SeenItems();
  private readonly byUser = new Map<string, UserHistory>();
  /** Snapshot files already read (absolute paths): `catchUp` reads only the others. */
  private readonly loadedFiles = new Set<string>();
  /** The next version of users forgotten (see `forget`). */
  private readonly forgottenVersions = new Map<string, number>();

  /** The latest distinct items (at most 1000), oldest first. */
  items(userId: string): readonly string[] {
    return this.byUser.get(userId)?.recent ?? [];
  }

  /** Every item the user ever interacted with, as a membership test (not a copy). */
  seen(userId: string): SeenSet {
    return this.seenItems.of(userId);
  }

  /** Changes whenever the user's history does: lets callers keep what they derived from it. */
  version(userId: string): number {
    return this.byUser.get(userId)?.version ?? this.forgottenVersions.get(userId) ?? 0;
  }

  /** Distinct items the user interacted with, all of them. */
  count(userId: string): number {
    return this.seenItems.count(userId);
  }

  get users(): number {
    return this.byUser.size;
  }

  /** The user's every item as indices of a model (`itemIndex`), ascending; unknown ones skipped. */
  seenIndices(userId: string, itemIndex: ReadonlyMap<string, number>): number[] {
    return this.seenItems.modelIndices(userId, itemIndex).sort((a, b) => a - b);
  }

  record(userId: string, itemId: string): void {
    const user = this.user(userId);
    user.version += 1;
    const interned = this.seenItems.dictionary.idOf(this.seenItems.dictionary.intern(itemId));
    if (!this.seenItems.add(userId, interned)) {
      const at = user.recent.indexOf(interned);
      if (at >= 0) user.recent.splice(at, 1); // one entry per item, at its latest position
    }
    user.recent.push(interned);
    if (user.recent.length > MAX_RECENT_PER_USER)
      user.recent.splice(0, user.recent.length - MAX_RECENT_PER_USER);
  }

  /**
   * Drops the user's history (a deletion): no item of theirs is excluded or folded in any more.
   * Their version keeps counting up, so what was derived from the old history is not reused.
   */
  forget(userId: string): boolean {
    const user = this.byUser.get(userId);
    const held = this.seenItems.forget(userId);
    if (!user) return held;
    this.byUser.delete(userId);
    this.forgottenVersions.set(userId, user.version + 1);
    return true;
  }

  private user(userId: string): UserHistory {
    let user = this.byUser.get(userId);
    if (!user) {
      const version = this.forgottenVersions.get(userId) ?? 0;
      this.byUser.set(userId, (user = { recent: [], version }));
    }
    return user;
  }

  /**
   * Every interaction of the snapshots, in one pass: each user's item numbers (in time order) give
   * the sorted seen array and, read backwards, the latest distinct items.
   */
  static async fromSnapshots(snapshotsRoot: string): Promise<InteractionHistory> {
    const history = new InteractionHistory();
    const { rows, read } = await readInteractions(snapshotsRoot, history.loadedFiles);
    const { dictionary } = history.seenItems;
    const byUser = new Map<string, number[]>();
    for (const row of rows) {
      let numbers = byUser.get(row.user_id);
      if (!numbers) byUser.set(row.user_id, (numbers = []));
      numbers.push(dictionary.intern(row.item_id));
    }
    history.seenItems.load(byUser);
    for (const [userId, numbers] of byUser) {
      const recent: string[] = [];
      const taken = new Set<number>();
      for (let i = numbers.length - 1; i >= 0 && recent.length < MAX_RECENT_PER_USER; i -= 1) {
        const number = numbers[i]!;
        if (taken.has(number)) continue;
        taken.add(number);
        recent.push(dictionary.idOf(number));
      }
      history.byUser.set(userId, { recent: recent.reverse(), version: 0 });
    }
    for (const file of read) history.loadedFiles.add(file);
    return history;
  }

  /**
   * Reads the snapshot files written since the last load (feedback that reached other instances,
   * brought in by the stream worker) and records the interactions new to each user; returns how
   * many. Files merged by compaction are read again, but what they hold is known by then.
   */
  async catchUp(snapshotsRoot: string): Promise<number> {
    const { rows, read, present } = await readInteractions(snapshotsRoot, this.loadedFiles);
    let added = 0;
    for (const row of rows) {
      if (this.seenItems.has(row.user_id, row.item_id)) continue;
      this.record(row.user_id, row.item_id);
      added += 1;
    }
    for (const file of read) this.loadedFiles.add(file);
    const exists = new Set(present);
    for (const file of this.loadedFiles) if (!exists.has(file)) this.loadedFiles.delete(file);
    return added;
  }
}
