import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { IMPORT_TOPIC } from "@reco/importer";
import { LogBuilder, buildInteractions, fitModel, publishVersion } from "@reco/ml";
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

/**
 * A small iALS (8 factors, 3 epochs, on the main thread) trained on `ratings`, published under
 * `dataDir/registry` and recorded as the stable version of `ials`: what the api serves.
 */
export async function publishStableIals(
  db: Database,
  dataDir: string,
  ratings: readonly RateEvent[],
): Promise<{ dir: string; version: string }> {
  const log = new LogBuilder();
  for (const event of ratings)
    log.add(event.userId, event.itemId, event.rating, Date.parse(event.eventTime) / 1000);
  const train = buildInteractions(log.finish());
  const { model } = await fitModel("ials", train, { factors: 8, epochs: 3, threads: 0 });
  const { dir, metadata } = await publishVersion({
    registryDir: path.join(dataDir, "registry"),
    name: "ials",
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "test",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: ratings.length,
    },
  });
  await db.prisma.modelVersion.create({
    data: {
      name: "ials",
      version: metadata.version,
      kind: "ials",
      stage: "stable",
      artifactPath: dir,
      checksum: metadata.files["model.onnx"]!.sha256,
    },
  });
  return { dir, version: metadata.version };
}
