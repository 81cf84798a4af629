import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { BadInput } from "@reco/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalogSnapshot } from "../data/parquet.ts";
import { fitModel } from "../models/index.ts";
import { recommend } from "../models/score.ts";
import { datasetSchema, loadDataset } from "./dataset.ts";

let root: string;
let instance: DuckDBInstance;

const EVENT_COLUMNS = `event_id VARCHAR, event_time TIMESTAMP, type VARCHAR, user_id VARCHAR, item_id VARCHAR,
  value DOUBLE, rec_id VARCHAR, device VARCHAR, country VARCHAR, payload VARCHAR, "partition" INTEGER, "offset" BIGINT`;

/** The columns the stream worker writes (packages/stream/README.md, "Catalog snapshot"). */
const CATALOG_COLUMNS = `item_id VARCHAR, title VARCHAR, genres VARCHAR[], tags VARCHAR[], year INTEGER,
  available BOOLEAN, available_from TIMESTAMP, available_until TIMESTAMP, deleted_at TIMESTAMP,
  updated_at TIMESTAMP, created_at TIMESTAMP, payload VARCHAR, "partition" INTEGER, "offset" BIGINT`;

async function writeParquet(relative: string, columns: string, rows: string): Promise<void> {
  const target = path.join(root, relative);
  await mkdir(path.dirname(target), { recursive: true });
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE rows (${columns})`);
    await connection.run(`INSERT INTO rows VALUES ${rows}`);
    await connection.run(`COPY rows TO '${target}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "ml-catalog-"));
  instance = await DuckDBInstance.create(":memory:");
  await writeParquet(
    "topic=reco.events.watch/date=2026-01-01/hour=10/part-0-0-6.parquet",
    EVENT_COLUMNS,
    `('e1', '2026-01-01 10:00:00', 'watch', 'u1', 'm1', 1, NULL, NULL, NULL, '{}', 0, 0),
     ('e2', '2026-01-01 10:01:00', 'watch', 'u1', 'm2', 1, NULL, NULL, NULL, '{}', 0, 1),
     ('e3', '2026-01-01 10:02:00', 'watch', 'u2', 'm1', 1, NULL, NULL, NULL, '{}', 0, 2),
     ('e4', '2026-01-01 10:03:00', 'watch', 'u2', 'm3', 1, NULL, NULL, NULL, '{}', 0, 3),
     ('e5', '2026-01-01 10:04:00', 'watch', 'u3', 'm2', 1, NULL, NULL, NULL, '{}', 0, 4),
     ('e6', '2026-01-01 10:05:00', 'watch', 'u3', 'm4', 1, NULL, NULL, NULL, '{}', 0, 5),
     ('e7', '2026-01-01 10:06:00', 'watch', 'u4', 'm3', 1, NULL, NULL, NULL, '{}', 0, 6)`,
  );
  // m2 and m3 are in both files (a repartitioned topic): the later updated_at counts.
  await writeParquet(
    "catalog/partition-0.parquet",
    CATALOG_COLUMNS,
    `('m1', 'One', ['Drama', 'Crime'], [], 1990, true, NULL, NULL, NULL, '2026-01-01 09:00:00', NULL, '{}', 0, 0),
     ('m2', 'Two', ['Drama'], [], NULL, true, NULL, NULL, NULL, '2026-01-01 09:00:00', NULL, '{}', 0, 1),
     ('m3', 'Three', ['Comedy'], ['funny'], NULL, false, NULL, NULL, NULL, '2026-01-01 10:00:00', NULL, '{}', 0, 2),
     ('m4', 'Four', ['Drama'], [], NULL, false, NULL, NULL, '2026-01-02 00:00:00', '2026-01-02 00:00:00', NULL, '{}', 0, 3)`,
  );
  await writeParquet(
    "catalog/partition-1.parquet",
    CATALOG_COLUMNS,
    `('m2', 'Two Remastered', ['Drama', 'Thriller'], ['classic'], NULL, true, NULL, NULL, NULL, '2026-01-01 12:00:00', NULL, '{}', 1, 0),
     ('m3', 'Three', ['Comedy'], ['funny'], NULL, true, NULL, NULL, NULL, '2026-01-01 08:00:00', NULL, '{}', 1, 1)`,
  );
  // A write in progress: not a partition file, never read.
  await writeFile(path.join(root, "catalog", ".tmp-partial.parquet"), "not parquet");
});

afterAll(async () => {
  instance.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe("the catalog snapshot in training", () => {
  it("loadCatalogSnapshot: the latest state per item across the partition files", async () => {
    const catalog = await loadCatalogSnapshot(root);
    expect(catalog?.files).toBe(2);
    expect([...catalog!.items.keys()].sort()).toEqual(["m1", "m2", "m3", "m4"]);
    expect(catalog!.items.get("m2")).toEqual({
      title: "Two Remastered",
      categories: ["Drama", "Thriller"],
      tags: ["classic"],
      year: null,
      available: true,
      availableFrom: null,
      availableUntil: null,
      deletedAt: null,
    });
    expect(catalog!.items.get("m3")?.available).toBe(false);
    expect(catalog!.items.get("m4")?.deletedAt).toBe(Date.UTC(2026, 0, 2) / 1000);
    expect(catalog!.items.get("m1")?.year).toBe(1990);
    expect(await loadCatalogSnapshot(path.join(root, "topic=reco.events.watch"))).toBeNull();
  });

  it("--snapshots alone: content from the catalog, deleted items out of training, unavailable ones reported", async () => {
    const data = await loadDataset(datasetSchema.parse({ snapshots: root, split: "none" }), {
      needTest: false,
    });
    expect([...data.train.ids.items].sort()).toEqual(["m1", "m2", "m3"]);
    expect(data.data.nInteractions).toBe(6); // e6 (u3 → the deleted m4) is left out
    expect(data.catalog).toEqual({ items: 4, deleted: ["m4"], unavailable: ["m3"] });
    const m2 = data.train.ids.items.indexOf("m2");
    expect([...data.train.itemContent!.features[m2]!].sort()).toEqual([
      "category:drama",
      "category:thriller",
      "tag:classic",
      "word:remastered",
      "word:two",
    ]);
    // A content model trained from the snapshots alone: m1 is m2's only genre neighbour for u3.
    const { model } = await fitModel("content", data.train);
    const u3 = data.train.ids.users.indexOf("u3");
    const history = { items: Int32Array.of(m2), values: Float32Array.of(1) };
    const ranked = recommend(model, { userIndex: u3, history }, 1);
    expect(data.train.ids.items[ranked.items[0]!]).toBe("m1");
  });

  it("a catalog file that is not Parquet is a clear error naming the directory", async () => {
    const broken = await mkdtemp(path.join(tmpdir(), "ml-catalog-broken-"));
    try {
      await mkdir(path.join(broken, "catalog"), { recursive: true });
      await writeFile(path.join(broken, "catalog", "partition-0.parquet"), "garbage");
      const error = await loadCatalogSnapshot(broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadInput);
      expect((error as Error).message).toMatch(
        new RegExp(`^cannot read the catalog snapshot under ${path.join(broken, "catalog")}: `),
      );
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
