import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MetricAggregateRepository, openDatabase, type Database } from "@reco/db";
import type { Principal } from "@reco/serving";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrpcContext, TrpcServices } from "../context.ts";
import { createCallerFactory } from "../init.ts";
import { appRouter } from "../router.ts";

const viewer: Principal = { keyId: 1, prefix: "reco_viewer", name: "viewer", role: "viewer" };

let dataDir: string;
let db: Database;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "stats-health-"));
  db = await openDatabase({ dataDir });
  const row = (
    minute: string,
    versionLabel: string,
    counts: { impressions: number; clicks: number; fallbacks: number; p99: number },
  ) => ({
    minute: new Date(minute),
    versionLabel,
    impressions: counts.impressions,
    clicks: counts.clicks,
    fallbacks: counts.fallbacks,
    latencyP99Ms: counts.p99,
  });
  await db.prisma.metricAggregate.createMany({
    data: [
      // the window before (11:55–11:59)
      row("2026-01-01T11:57:00Z", "ials@1", { impressions: 40, clicks: 4, fallbacks: 0, p99: 50 }),
      // the window (12:00–12:04)
      row("2026-01-01T12:00:00Z", "ials@1", { impressions: 100, clicks: 5, fallbacks: 2, p99: 80 }),
      row("2026-01-01T12:03:00Z", "ials@1", {
        impressions: 200,
        clicks: 15,
        fallbacks: 0,
        p99: 120,
      }),
      row("2026-01-01T12:03:00Z", "ials@2", { impressions: 50, clicks: 5, fallbacks: 3, p99: 200 }),
      // after the window: not counted
      row("2026-01-01T12:05:00Z", "ials@1", {
        impressions: 1000,
        clicks: 900,
        fallbacks: 900,
        p99: 9000,
      }),
    ],
  });
}, 60_000);
afterAll(async () => {
  await db?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function caller(services: Partial<TrpcServices>) {
  const ctx: TrpcContext = {
    requestId: "test",
    principal: viewer,
    invalidKey: false,
    keyStoreDown: false,
    services: {
      stats: {} as TrpcServices["stats"],
      apiKeys: {} as TrpcServices["apiKeys"],
      ...services,
    },
  };
  return createCallerFactory(appRouter)(ctx).stats;
}

describe("stats.health", () => {
  it("rates over the last 5 minutes and the 5 before, from the aggregates, each with its unit", async () => {
    const health = await caller({ monitoring: new MetricAggregateRepository(db.prisma) }).health({
      minutes: 5,
      until: "2026-01-01T12:04:30Z",
    });
    expect(health.window).toEqual({
      minutes: 5,
      from: "2026-01-01T12:00:00.000Z",
      to: "2026-01-01T12:05:00.000Z",
    });
    const byKey = Object.fromEntries(health.figures.map((f) => [f.key, f]));
    // By hand: 100 + 200 + 50 = 350 requests in 5 min; 40 in the 5 before.
    expect(byKey.requestsPerMin).toMatchObject({ unit: "req/min", value: 70, previous: 8 });
    // 25 clicks / 350 = 7.142857 %; 4 / 40 = 10 %.
    expect(byKey.ctr!.unit).toBe("%");
    expect(byKey.ctr!.value).toBeCloseTo(7.142857, 5);
    expect(byKey.ctr!.previous).toBeCloseTo(10, 9);
    // 5 fallbacks / 350 = 1.428571 %; none before.
    expect(byKey.fallbackRate!.value).toBeCloseTo(1.428571, 5);
    expect(byKey.fallbackRate!.previous).toBe(0);
    // The highest p99 of any row in the window: 200 ms (ials@2 at 12:03); 50 ms before.
    expect(byKey.p99).toMatchObject({ unit: "ms", value: 200, previous: 50 });
    // What the event bus knows is absent without one, with the reason.
    for (const key of ["eventsPerSec", "consumerLag", "dlq"]) {
      expect(byKey[key]).toMatchObject({ value: null, previous: null });
      expect(byKey[key]!.note).toMatch(/event bus is not configured/);
    }
    expect(health.experiments).toEqual({ available: false, running: [] });
    expect(health.rollouts).toEqual({ available: false, active: [] });
    expect(health.retraining).toEqual({ available: false, last: null, active: null });
  });

  it("an empty window has no click-through (not 0 %) and no requests", async () => {
    const health = await caller({ monitoring: new MetricAggregateRepository(db.prisma) }).health({
      minutes: 5,
      until: "2025-06-01T00:00:00Z",
    });
    const byKey = Object.fromEntries(health.figures.map((f) => [f.key, f]));
    expect(byKey.requestsPerMin).toMatchObject({ value: 0, previous: 0 });
    expect(byKey.ctr).toMatchObject({ value: null, previous: null });
  });

  it("without monitoring every figure is null and says so; a bad window is refused by name", async () => {
    const health = await caller({}).health();
    expect(health.figures.every((f) => f.value === null && f.note)).toBe(true);
    await expect(caller({}).health({ minutes: 600 })).rejects.toThrow(/minutes/);
  });

  it("lag, dead letters and events/s come from the pipeline reading (bus offsets: packages/bus)", async () => {
    const readings = [
      { consumerLag: 5, deadLetters: 1, eventsPerSec: null },
      { consumerLag: 2, deadLetters: 1, eventsPerSec: 0.3 },
    ];
    const pipeline = { read: async () => readings.shift()! };
    const read = async () =>
      Object.fromEntries((await caller({ pipeline }).health()).figures.map((f) => [f.key, f]));
    let byKey = await read();
    expect(byKey.consumerLag).toMatchObject({ value: 5, unit: "events", previous: null });
    expect(byKey.consumerLag!.note).toBeUndefined();
    expect(byKey.dlq).toMatchObject({ value: 1, unit: "events" });
    expect(byKey.eventsPerSec!.value).toBeNull();
    expect(byKey.eventsPerSec!.note).toMatch(/next refresh/);
    byKey = await read();
    expect(byKey.consumerLag!.value).toBe(2);
    expect(byKey.eventsPerSec).toMatchObject({ value: 0.3, unit: "events/s" });

    // A broker that does not answer costs these three figures, not the overview.
    const down = { read: () => Promise.reject(new Error("connect ECONNREFUSED")) };
    const health = await caller({ pipeline: down }).health();
    const lag = health.figures.find((f) => f.key === "consumerLag")!;
    expect(lag.value).toBeNull();
    expect(lag.note).toMatch(/did not answer/);
  });
});
