import path from "node:path";
import type {
  Cache,
  CacheSetOptions,
  ListOptions,
  ListPush,
  SetAdd,
  SetOptions,
} from "@reco/cache";
import { MemoryCache } from "@reco/cache";
import { SCHEMA_VERSION, type RecoEvent, type TopicNames } from "@reco/contracts";
import type { Database } from "@reco/db";
import { duckConnection, sqlString, toSnapshotRow, writeSnapshot } from "@reco/snapshots";

/** The user the tests delete; every other user's rows must stay as they were. */
export const ERASED = "u-erase";

function interaction(
  type: "watch" | "click",
  eventId: string,
  userId: string,
  itemId: string,
  eventTime: string,
): RecoEvent {
  return { schemaVersion: SCHEMA_VERSION, eventId, eventTime, userId, type, itemId } as RecoEvent;
}

/**
 * Snapshot files beside seedCatalog's import file (users "1".."30" there), in the test topics:
 * watch partition 0: offsets 0–5 and 6–11 (hour 10 of 2026-01-02; offset n by user
 * [ERASED, "1", "2"][n % 3]), 12–14 (hour 11, user "3" only); click partition 0: offsets 0–1, both
 * ERASED's. By hand: ERASED has 4 watches (offsets 0, 3, 6, 9) and 2 clicks, in 3 files.
 */
export async function seedUserSnapshots(snapshotsRoot: string, topics: TopicNames): Promise<void> {
  const users = [ERASED, "1", "2"];
  const watch = (first: number, last: number, time: string, user?: string) => {
    const rows = [];
    for (let offset = first; offset <= last; offset += 1) {
      const event = interaction(
        "watch",
        `w-${offset}`,
        user ?? users[offset % 3]!,
        String((offset % 40) + 1),
        time,
      );
      rows.push(toSnapshotRow(event, { partition: 0, offset }));
    }
    return writeSnapshot(
      snapshotsRoot,
      { topic: topics.watch, partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(last) },
      rows,
    );
  };
  await watch(0, 5, "2026-01-02T10:05:00.000Z");
  await watch(6, 11, "2026-01-02T10:20:00.000Z");
  await watch(12, 14, "2026-01-02T11:05:00.000Z", "3");
  await writeSnapshot(
    snapshotsRoot,
    { topic: topics.click, partition: 0, firstOffset: 0n, lastOffset: 1n },
    [0, 1].map((offset) =>
      toSnapshotRow(
        interaction(
          "click",
          `c-${offset}`,
          ERASED,
          String(offset + 11),
          "2026-01-02T10:30:00.000Z",
        ),
        { partition: 0, offset },
      ),
    ),
  );
}

/**
 * Experiment rows (totals, and ERASED's and "1"'s per hour): ERASED in one arm, users "1" and "2"
 * beside them; profiles for ERASED and "1".
 */
export async function seedUserRows(db: Database): Promise<void> {
  await db.prisma.experimentUserStat.createMany({
    data: [
      { experimentKey: "exp-a", variant: "control", userId: ERASED, exposures: 3, clicks: 1 },
      { experimentKey: "exp-a", variant: "treatment", userId: "1", exposures: 2 },
      { experimentKey: "exp-a", variant: "control", userId: "2", exposures: 5, watches: 1 },
    ],
  });
  const hour = (userId: string, at: string, exposures: number, clicks = 0, source = "stream") => ({
    experimentKey: "exp-a",
    variant: userId === "1" ? "treatment" : "control",
    userId,
    hour: new Date(at),
    exposures,
    clicks,
    firstExposure: new Date(at),
    source,
  });
  await db.prisma.experimentUserHourStat.createMany({
    data: [
      hour(ERASED, "2026-01-02T09:00:00.000Z", 1),
      hour(ERASED, "2026-01-02T10:00:00.000Z", 2),
      // a click recorded through the experiments API
      hour(ERASED, "2026-01-02T10:00:00.000Z", 0, 1, "api"),
      hour("1", "2026-01-02T10:00:00.000Z", 2),
    ],
  });
  await db.prisma.user.createMany({
    data: [{ externalId: ERASED }, { externalId: "1", attributes: { plan: "free" } }],
  });
}

/**
 * Rows per user over every Parquet file under `root`, whatever its name (a glob, not the
 * snapshot listing: a stray or temp file counts too), and the rows that mention `userId` anywhere
 * (user id column or the stored payload).
 */
export async function scanParquet(
  root: string,
  userId: string,
): Promise<{ perUser: Record<string, number>; mentioning: number; files: number }> {
  const connection = await duckConnection();
  try {
    const glob = sqlString(path.join(root, "**", "*.parquet"));
    const files = await connection.runAndReadAll(`SELECT count(*) AS n FROM glob(${glob})`);
    const fileCount = Number((files.getRowObjectsJS()[0] as { n: bigint }).n);
    if (fileCount === 0) return { perUser: {}, mentioning: 0, files: 0 };
    const source = `read_parquet(${glob}, hive_partitioning = false)`;
    const perUser = await connection.runAndReadAll(
      `SELECT user_id, count(*) AS n FROM ${source} GROUP BY user_id`,
    );
    const mentioning = await connection.runAndReadAll(
      `SELECT count(*) AS n FROM ${source}
        WHERE user_id = ${sqlString(userId)} OR contains(payload, ${sqlString(userId)})`,
    );
    return {
      perUser: Object.fromEntries(
        (perUser.getRowObjectsJS() as { user_id: string; n: bigint }[]).map((row) => [
          row.user_id,
          Number(row.n),
        ]),
      ),
      mentioning: Number((mentioning.getRowObjectsJS()[0] as { n: bigint }).n),
      files: fileCount,
    };
  } finally {
    connection.closeSync();
  }
}

/**
 * A MemoryCache that remembers every key written to it, so a test can read back every entry the
 * serving code ever stored (the port has no key listing). Storage is the MemoryCache's own.
 */
export class KeyRecordingCache extends MemoryCache implements Cache {
  readonly written = new Set<string>();

  override async set(key: string, value: unknown, options?: CacheSetOptions): Promise<boolean> {
    this.written.add(key);
    return super.set(key, value, options);
  }

  override async setText(key: string, text: string, options?: CacheSetOptions): Promise<boolean> {
    this.written.add(key);
    return super.setText(key, text, options);
  }

  override async pushLists(entries: readonly ListPush[], options: ListOptions): Promise<void> {
    for (const entry of entries) this.written.add(entry.key);
    return super.pushLists(entries, options);
  }

  override async addToSets(entries: readonly SetAdd[], options?: SetOptions): Promise<void> {
    for (const entry of entries) this.written.add(entry.key);
    return super.addToSets(entries, options);
  }

  /** Every stored entry (value, text, list or set) whose key or content mentions `text`. */
  async entriesMentioning(text: string): Promise<string[]> {
    const found: string[] = [];
    for (const key of this.written) {
      const contents = JSON.stringify([
        await this.getText(key).catch(() => undefined),
        await this.getList(key).catch(() => []),
        await this.getSet(key).catch(() => []),
      ]);
      const stored = contents !== JSON.stringify([null, [], []]);
      if (stored && (key.includes(text) || contents.includes(text))) found.push(key);
    }
    return found;
  }
}
