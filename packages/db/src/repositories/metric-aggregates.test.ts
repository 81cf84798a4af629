import { describe, expect, it } from "vitest";
import { rollUpAggregates, type AggregateRow } from "./metric-aggregates.ts";

const row = (minute: string, extra: Partial<AggregateRow>): AggregateRow => ({
  minute: new Date(`2026-03-01T${minute}:00Z`),
  versionLabel: "m@v1",
  experimentKey: "",
  variant: "",
  impressions: 0,
  clicks: 0,
  errors: 0,
  fallbacks: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  latencyP99Ms: null,
  latencySumMs: 0,
  ...extra,
});

describe("rollUpAggregates", () => {
  it("keeps one dense point per minute of the window ending with the minute holding `until`", () => {
    const window = rollUpAggregates([row("10:02", { impressions: 3 })], {
      minutes: 3,
      until: new Date("2026-03-01T10:02:45.500Z"),
    });
    expect(window.overall.map((p) => [p.minute.slice(11, 16), p.impressions])).toEqual([
      ["10:00", 0],
      ["10:01", 0],
      ["10:02", 3],
    ]);
    expect(window.to).toBe("2026-03-01T10:03:00.000Z");
  });

  it("leaves rates and percentiles null where nothing was served, and ignores percentiles of empty rows", () => {
    const window = rollUpAggregates(
      [
        row("10:00", { impressions: 0, latencyP99Ms: 500 }),
        row("10:00", { versionLabel: "m@v2", impressions: 4, clicks: 1, latencyP99Ms: 20 }),
      ],
      { minutes: 1, until: new Date("2026-03-01T10:00:00Z") },
    );
    const [v1, v2] = window.byModelVersion;
    expect(v1!.points[0]).toMatchObject({ impressions: 0, ctr: null, latencyP99Ms: null });
    expect(v2!.points[0]).toMatchObject({ ctr: 0.25, latencyP99Ms: 20 });
    expect(window.totals.latencyP99Ms).toBe(20);
    expect(window.totals.worstMinuteP99Ms).toBe(20);
  });

  it("weights each row's percentile by its impressions and reports the worst minute's p99", () => {
    const window = rollUpAggregates(
      [
        row("10:00", { impressions: 90, latencyP99Ms: 10 }),
        row("10:01", { impressions: 10, latencyP99Ms: 110 }),
      ],
      { minutes: 2, until: new Date("2026-03-01T10:01:00Z") },
    );
    expect(window.totals.latencyP99Ms).toBeCloseTo((90 * 10 + 10 * 110) / 100, 12);
    expect(window.totals.worstMinuteP99Ms).toBe(110);
  });

  it("merges rows with latency counts by adding the counts: percentiles of the union, not a mean of percentiles", () => {
    // bucket i holds (2^((i−1)/4), 2^(i/4)] ms: 100 responses in bucket 20 (26.9, 32], 100 in 24
    // (53.8, 64]; their union's p99 is the 198th, 98 of 100 into bucket 24.
    const counts = (bucket: number, n: number) => [...new Array<number>(bucket).fill(0), n];
    const window = rollUpAggregates(
      [
        row("10:00", { impressions: 100, latencyP99Ms: 31, latencyCounts: counts(20, 100) }),
        row("10:00", {
          versionLabel: "m@v2",
          impressions: 100,
          latencyP99Ms: 63,
          latencyCounts: counts(24, 100),
        }),
        row("10:01", { impressions: 100, latencyP99Ms: 31, latencyCounts: counts(20, 100) }),
      ],
      { minutes: 2, until: new Date("2026-03-01T10:01:00Z") },
    );
    const unionP99 = 2 ** (23 / 4) * 2 ** (98 / 100 / 4);
    expect(window.overall[0]!.latencyP99Ms).toBeCloseTo(unionP99, 10);
    // one row: its own, exact percentile
    expect(window.overall[1]!.latencyP99Ms).toBe(31);
    expect(window.byModelVersion[1]!.points[0]!.latencyP99Ms).toBe(63);
    // the window: 200 in bucket 20, 100 in 24; p99 is the 297th, 97 of 100 into 24
    expect(window.totals.latencyP99Ms).toBeCloseTo(2 ** (23 / 4) * 2 ** (97 / 100 / 4), 10);
    // p50 of the window: the 150th, 150 of 200 into bucket 20
    expect(window.totals.latencyP50Ms).toBeCloseTo(2 ** (19 / 4) * 2 ** (150 / 200 / 4), 10);
    // a row without counts (from before they were kept): the weighted mean again
    const mixed = rollUpAggregates(
      [
        row("10:00", { impressions: 100, latencyP99Ms: 31, latencyCounts: counts(20, 100) }),
        row("10:00", { versionLabel: "m@v2", impressions: 100, latencyP99Ms: 63 }),
      ],
      { minutes: 1, until: new Date("2026-03-01T10:00:00Z") },
    );
    expect(mixed.overall[0]!.latencyP99Ms).toBe(47);
  });

  it("orders variant series by experiment then variant and leaves rows without an experiment out of them", () => {
    const window = rollUpAggregates(
      [
        row("10:00", { experimentKey: "b", variant: "x", impressions: 1 }),
        row("10:00", { experimentKey: "a", variant: "z", impressions: 1 }),
        row("10:00", { experimentKey: "a", variant: "y", impressions: 1 }),
        row("10:00", { impressions: 5 }),
      ],
      { minutes: 1, until: new Date("2026-03-01T10:00:00Z") },
    );
    expect(window.byVariant.map((s) => `${s.experimentKey}/${s.variant}`)).toEqual([
      "a/y",
      "a/z",
      "b/x",
    ]);
    expect(window.byModelVersion[0]!.totals.impressions).toBe(8);
  });
});
