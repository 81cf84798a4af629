import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { BadInput } from "@reco/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInteractions } from "./interactions.ts";
import { fitModel } from "../models/index.ts";
import { recommend } from "../models/score.ts";
import { loadSnapshots } from "./parquet.ts";

let root: string;
let instance: DuckDBInstance;

const COLUMNS = `event_id VARCHAR, event_time TIMESTAMP, type VARCHAR, user_id VARCHAR, item_id VARCHAR,
  value DOUBLE, rec_id VARCHAR, device VARCHAR, country VARCHAR, payload VARCHAR, "partition" INTEGER, "offset" BIGINT`;

async function writeSnapshot(relative: string, rows: string): Promise<void> {
  const target = path.join(root, relative);
  await mkdir(path.dirname(target), { recursive: true });
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE rows (${COLUMNS})`);
    await connection.run(`INSERT INTO rows VALUES ${rows}`);
    await connection.run(`COPY rows TO '${target}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "ml-snap-"));
  instance = await DuckDBInstance.create(":memory:");
  await writeSnapshot(
    "topic=reco.events.rate/date=2026-01-01/hour=10/part-0-0-2.parquet",
    `('e1', '2026-01-01 10:00:00', 'rate', 'u1', 'm1', 4.5, NULL, 'mobile', 'FR', '{}', 0, 0),
     ('e2', '2026-01-01 10:05:00', 'rate', 'u2', 'm1', 2.0, NULL, 'tv', 'DE', '{}', 0, 1),
     ('e2', '2026-01-01 10:05:00', 'rate', 'u2', 'm1', 2.0, NULL, 'tv', 'DE', '{}', 0, 2)`,
  );
  await writeSnapshot(
    "topic=reco.events.watch/date=2026-01-01/hour=11/part-1-0-2.parquet",
    `('e3', '2026-01-01 11:00:00', 'watch', 'u1', 'm2', 0.9, 'r1', 'mobile', NULL, '{}', 1, 0),
     ('e4', '2026-01-01 11:30:00', 'click', 'u3', 'm3', NULL, 'r2', NULL, 'FR', '{}', 1, 1),
     ('e5', '2026-01-01 11:31:00', 'reco.response', 'u3', NULL, 12.0, 'r2', NULL, NULL, '{}', 1, 2)`,
  );
  await writeSnapshot(
    "topic=reco.events.watch/date=2026-01-01/hour=12/.tmp-partial.parquet",
    `('e6', '2026-01-01 12:00:00', 'watch', 'u9', 'm9', 1.0, NULL, NULL, NULL, '{}', 1, 3)`,
  );
});

afterAll(() => instance.closeSync());

describe("loadSnapshots", () => {
  it("reads watch/rate/click events once each, with ratings only from rate events and the context", async () => {
    const { log, report } = await loadSnapshots(root);
    expect(report.events).toBe(4);
    expect(report.firstTime).toBe(Date.UTC(2026, 0, 1, 10) / 1000);
    expect(report.lastTime).toBe(Date.UTC(2026, 0, 1, 11, 30) / 1000);
    expect(log.ids.users).toEqual(["u1", "u2", "u3"]);
    expect(log.ids.items).toEqual(["m1", "m2", "m3"]);
    expect(Array.from(log.rating).map((r) => (Number.isNaN(r) ? null : r))).toEqual([4.5, 2, null, null]);
    const device = log.context.device!;
    expect(Array.from(device.codes, (code) => (code < 0 ? null : device.values[code]))).toEqual([
      "mobile",
      "tv",
      "mobile",
      null,
    ]);
    const positives = buildInteractions(log, { threshold: 3.5 });
    expect(positives.userItems.indptr[positives.nUsers]).toBe(3);
  });

  it("feeds per-context popularity from the events' device and country", async () => {
    const { log } = await loadSnapshots(root);
    const { model } = await fitModel("popularity", buildInteractions(log));
    expect(model.kind === "popularity" && Object.keys(model.scores).sort()).toEqual([
      "",
      "country=DE",
      "country=FR",
      "device=mobile",
      "device=tv",
    ]);
    // In FR, m1 and m3 tie (one event each) and m1 wins on its global count (2 users); on tv only m1 was seen.
    expect(Array.from(recommend(model, { context: { country: "FR" } }, 3).items)).toEqual([0, 2, 1]);
    expect(Array.from(recommend(model, { context: { device: "tv" } }, 3).items)).toEqual([0, 1, 2]);
  });

  it("never opens a file the worker is still writing (a torn .tmp- file beside the snapshots)", async () => {
    // As a worker's half-written temp file looks, or one renamed away while being opened.
    const torn = path.join(root, "topic=reco.events.watch/date=2026-01-01/hour=11/.tmp-torn.parquet");
    await writeFile(torn, "PAR1 not yet a whole file");
    try {
      expect((await loadSnapshots(root)).report.events).toBe(4);
    } finally {
      await rm(torn);
    }
  });

  it("refuses a missing directory and a directory without snapshots", async () => {
    await expect(loadSnapshots(path.join(root, "missing"))).rejects.toThrow(/cannot read snapshot directory/);
    const emptyRoot = await mkdtemp(path.join(tmpdir(), "ml-snap-empty-"));
    await expect(loadSnapshots(emptyRoot)).rejects.toBeInstanceOf(BadInput);
  });
});
