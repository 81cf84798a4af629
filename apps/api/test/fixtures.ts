import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { IMPORT_TOPIC } from "@reco/importer";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";

export interface DemoData {
  dataDir: string;
  snapshotsRoot: string;
  db: Database;
  ratings: RateEvent[];
  cleanup(): Promise<void>;
}

/** A real embedded database (PGlite) with `items` catalog rows and rating events in Parquet snapshots. */
export async function demoData(options: {
  items: number;
  users: number;
  ratingsPerUser: number;
}): Promise<DemoData> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "api-test-"));
  const snapshotsRoot = path.join(dataDir, "snapshots");
  const db = await openDatabase({ dataDir });
  await db.prisma.item.createMany({
    data: Array.from({ length: options.items }, (_, i) => ({
      externalId: String(i + 1),
      title: `Movie ${i + 1}`,
      genres: i % 2 ? ["Drama"] : ["Comedy"],
    })),
  });
  const ratings: RateEvent[] = [];
  for (let u = 0; u < options.users; u += 1) {
    for (let r = 0; r < options.ratingsPerUser; r += 1) {
      // user u rates items u+1 … u+ratingsPerUser, so low ids are the most popular
      const itemId = String(((u + r) % options.items) + 1);
      ratings.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `r-${u}-${r}`,
        eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, ratings.length % 60)).toISOString(),
        userId: String(u + 1),
        type: "rate",
        itemId,
        rating: 1 + (r % 5),
      });
    }
  }
  if (ratings.length > 0) {
    await writeSnapshot(
      snapshotsRoot,
      {
        // the importer's own topic: under a live topic these offsets would read as already stored
        // to a worker consuming it, which would then skip real events at them
        topic: IMPORT_TOPIC,
        partition: 0,
        firstOffset: 0n,
        lastOffset: BigInt(ratings.length - 1),
      },
      ratings.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
    );
  }
  return {
    dataDir,
    snapshotsRoot,
    db,
    ratings,
    async cleanup() {
      await db.close().catch(() => undefined); // a test may have closed it already (database outage)
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
