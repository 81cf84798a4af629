import type { MinutePoint } from "@reco/db";
import { describe, expect, it } from "vitest";
import { downsampleWindow, mergePoints } from "./downsample.ts";

const point = (
  minute: string,
  impressions: number,
  clicks: number,
  p99: number | null,
): MinutePoint => ({
  minute,
  impressions,
  clicks,
  ctr: impressions ? clicks / impressions : null,
  fallbacks: 1,
  errors: 0,
  latencyMeanMs: p99 === null ? null : p99 / 2,
  latencyP50Ms: null,
  latencyP95Ms: null,
  latencyP99Ms: p99,
});

describe("mergePoints", () => {
  it("sums counts, recomputes click-through and weights latency by impressions, per bucket", () => {
    const points = [
      point("2026-01-01T00:00:00.000Z", 10, 1, 100),
      point("2026-01-01T00:01:00.000Z", 30, 6, 200),
      point("2026-01-01T00:02:00.000Z", 0, 0, null),
    ];
    const merged = mergePoints(points, 2);
    expect(merged).toHaveLength(2);
    // By hand: 10 + 30 = 40 impressions, 7 clicks → 0.175; p99 (10·100 + 30·200) / 40 = 175 ms.
    expect(merged[0]).toEqual({
      minute: "2026-01-01T00:00:00.000Z",
      impressions: 40,
      clicks: 7,
      fallbacks: 2,
      errors: 0,
      ctr: 0.175,
      latencyMeanMs: 87.5,
      latencyP50Ms: null,
      latencyP95Ms: null,
      latencyP99Ms: 175,
    });
    // A bucket without traffic has no click-through and no latency (not 0).
    expect(merged[1]).toMatchObject({ impressions: 0, ctr: null, latencyP99Ms: null });
    expect(mergePoints(points, 1)).toBe(points);
  });

  it("adds the points' latency counts for a bucket's percentiles, and sends no counts", () => {
    // 30 responses in bucket 20 (26.9, 32] ms, then 10 in bucket 24 (53.8, 64]: the bucket's p99
    // is the 39.6th of 40, 9.6 of 10 into bucket 24 (a weighted mean of the two would say 175 ms)
    const counted = (minute: string, impressions: number, p99: number, bucket: number) => ({
      ...point(minute, impressions, 0, p99),
      latencyCounts: [...new Array<number>(bucket).fill(0), impressions],
    });
    const points = [
      counted("2026-01-01T00:00:00.000Z", 30, 100, 20),
      counted("2026-01-01T00:01:00.000Z", 10, 200, 24),
    ];
    const [merged] = mergePoints(points, 2);
    expect(merged!.latencyP99Ms).toBeCloseTo(2 ** (23 / 4) * 2 ** (9.6 / 10 / 4), 10);
    const input = {
      from: points[0]!.minute,
      to: "2026-01-01T00:02:00.000Z",
      minutes: 2,
      totals: { ...points[0]!, errorRate: 0, fallbackRate: 0, worstMinuteP99Ms: 200 },
      overall: points,
      byModelVersion: [],
      byVariant: [],
    };
    for (const bucketMinutes of [1, 2]) {
      const window = downsampleWindow(input, bucketMinutes);
      expect(window.overall[0]).not.toHaveProperty("latencyCounts");
      expect(window.totals).not.toHaveProperty("latencyCounts");
    }
  });
});
