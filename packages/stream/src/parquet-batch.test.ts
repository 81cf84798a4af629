import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RecoEvent } from "@reco/contracts";
import { duckConnection, sqlString, toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { afterEach, beforeEach, expect, it } from "vitest";
import { writeValidatedSnapshot } from "./parquet-batch.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "parity-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const events: RecoEvent[] = [
  {
    schemaVersion: 1,
    eventId: "w1",
    eventTime: "2026-01-05T10:15:00.123Z",
    userId: "u1",
    type: "watch",
    itemId: "i1",
    progress: 0.25,
    recId: "r1",
    context: { device: "tv", country: "FR" },
  },
  {
    schemaVersion: 1,
    eventId: "w2",
    eventTime: "2026-01-05T10:16:00Z",
    userId: "u1",
    type: "watch",
    itemId: "i2",
  },
  {
    schemaVersion: 1,
    eventId: "r1",
    eventTime: "2026-01-05T12:30:00.5+02:00",
    userId: "ü-ß",
    type: "rate",
    itemId: "i'3",
    rating: 4.5,
  },
  {
    schemaVersion: 1,
    eventId: "c1",
    eventTime: "2026-01-05T05:00:00-05:30",
    userId: "u2",
    type: "click",
    itemId: "i4",
    recId: "r9",
  },
  {
    schemaVersion: 1,
    eventId: "q1",
    eventTime: "2026-01-05T10:17:00Z",
    userId: "u3",
    type: "reco.request",
    recId: "r9",
    k: 10,
  },
  {
    schemaVersion: 1,
    eventId: "p1",
    eventTime: "2026-01-05T10:17:00.010Z",
    userId: "u3",
    type: "reco.response",
    recId: "r9",
    itemIds: ["i1", "i4"],
    modelVersion: "ials@3",
    variant: "b",
    latencyMs: 12.5,
    cacheHit: false,
    fallback: false,
    status: 200,
  },
];

async function readRows(file: string) {
  const connection = await duckConnection();
  try {
    const rows = await connection.runAndReadAll(
      `SELECT * FROM read_parquet(${sqlString(file)}) ORDER BY "offset"`,
    );
    const types = await connection.runAndReadAll(
      `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`,
    );
    return {
      rows: rows.getRowObjectsJS(),
      types: types.getRowObjectsJS().map((c) => `${c.column_name} ${c.column_type}`),
    };
  } finally {
    connection.closeSync();
  }
}

it("writes the same columns, types and values as the shared snapshot writer", async () => {
  const raw = events.map((event) => JSON.stringify(event));
  const offsets = [3, 4, 6, 7, 8, 11]; // gaps, as dead-lettered records leave them
  const range = { topic: "t", partition: 2, firstOffset: 3n, lastOffset: 11n };
  const shared = await writeSnapshot(
    path.join(root, "shared"),
    range,
    events.map((event, i) =>
      toSnapshotRow(event, { partition: 2, offset: offsets[i]!, raw: raw[i] }),
    ),
  );
  const fast = await writeValidatedSnapshot(
    path.join(root, "fast"),
    range,
    raw.map((payload, i) => ({ payload, offset: offsets[i]! })),
    new Date(events[0]!.eventTime),
  );

  expect(path.relative(path.join(root, "fast"), fast)).toBe(
    path.relative(path.join(root, "shared"), shared),
  );
  const expected = await readRows(shared);
  const actual = await readRows(fast);
  expect(actual.types).toEqual(expected.types);
  expect(actual.rows).toEqual(expected.rows);
  expect(actual.rows.map((row) => (row.event_time as Date).toISOString())).toEqual([
    "2026-01-05T10:15:00.123Z",
    "2026-01-05T10:16:00.000Z",
    "2026-01-05T10:30:00.500Z",
    "2026-01-05T10:30:00.000Z",
    "2026-01-05T10:17:00.000Z",
    "2026-01-05T10:17:00.010Z",
  ]);
});
