import type { MinutePoint } from "@reco/db";
import { describe, expect, it } from "vitest";
import { mergePoints } from "./downsample.ts";

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
});
