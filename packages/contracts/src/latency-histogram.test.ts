import { describe, expect, it } from "vitest";
import {
  addLatencyCounts,
  countAbove,
  latencyBucket,
  latencyBucketUpperMs,
  latencyQuantileMs,
  nearestLatencyBound,
  trimLatencyCounts,
} from "./latency-histogram.ts";

// Bounds by hand: bucket i ends at 2^(i/4) ms, e.g. 2^(17/4) = 19.03, 2^(18/4) = 22.63, 2^(20/4) = 32.
describe("latency histogram ladder", () => {
  it("puts a latency in the first bucket whose upper bound is at or above it", () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1)).toBe(0);
    expect(latencyBucket(1.01)).toBe(1); // (1, 1.19]
    expect(latencyBucket(20)).toBe(18); // (19.03, 22.63]
    expect(latencyBucket(19)).toBe(17);
    expect(latencyBucket(32)).toBe(20); // exactly the bound of 20
    expect(latencyBucket(32.01)).toBe(21);
    expect(latencyBucket(60_000)).toBe(64); // past 2^(63/4) ≈ 55 s: the open last bucket
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucketUpperMs(20)).toBe(32);
    expect(latencyBucketUpperMs(64)).toBe(Infinity);
  });

  it("rounds a threshold to the nearest bound on the log scale", () => {
    // 4·log2(36) = 20.68 → 21 (38.05 ms); 4·log2(35) = 20.52 → 21; 4·log2(34) = 20.35 → 20 (32 ms)
    expect(nearestLatencyBound(36)).toBe(21);
    expect(nearestLatencyBound(34)).toBe(20);
    expect(nearestLatencyBound(0.5)).toBe(0);
    expect(nearestLatencyBound(1e9)).toBe(63); // the last bound with a finite value
  });

  it("reads a quantile log-linearly within its bucket", () => {
    // 100 responses: 90 in bucket 20 (26.9, 32], 10 in bucket 24 (53.8, 64]. The median is the
    // 50th, 50/90 into bucket 20; the p95 the 95th, 5/10 into bucket 24.
    const counts = addLatencyCounts([], [...new Array(20).fill(0), 90, 0, 0, 0, 10]);
    expect(latencyQuantileMs(counts, 0.5)).toBeCloseTo(2 ** (19 / 4) * 2 ** (50 / 90 / 4), 12);
    expect(latencyQuantileMs(counts, 0.95)).toBeCloseTo(2 ** (23 / 4) * 2 ** (5 / 10 / 4), 12);
    expect(latencyQuantileMs(counts, 1)).toBeCloseTo(64, 12);
    expect(latencyQuantileMs([], 0.99)).toBeNull();
    expect(latencyQuantileMs([5], 0.99)).toBe(1);
  });

  it("counts responses slower than a bucket's bound, adds counts of unequal length, trims zeros", () => {
    const counts = [1, 2, 3, 0, 4];
    expect(countAbove(counts, 1)).toBe(7);
    expect(countAbove(counts, 4)).toBe(0);
    expect(addLatencyCounts([1, 1], counts)).toEqual([2, 3, 3, 0, 4]);
    expect(addLatencyCounts([1, 1, 1, 1, 1, 1], [1])).toEqual([2, 1, 1, 1, 1, 1]);
    expect(trimLatencyCounts([0, 3, 0, 0])).toEqual([0, 3]);
    expect(trimLatencyCounts([0, 0])).toEqual([]);
  });
});
