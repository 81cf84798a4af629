import { addLatencyCounts, latencyTotal } from "@reco/contracts";
import {
  mergedPercentiles,
  type MinutePoint,
  type MonitoringWindow,
  type Series,
  type WindowTotals,
} from "@reco/db";

type Weighted = [sum: number, weight: number];
const mean = ([sum, weight]: Weighted) => (weight > 0 ? sum / weight : null);
const add = (acc: Weighted, value: number | null, weight: number) => {
  if (value !== null && weight > 0) {
    acc[0] += value * weight;
    acc[1] += weight;
  }
};

/**
 * Per-minute points merged into buckets of `bucketMinutes` (the first bucket starts at the first
 * point): counts summed, click-through recomputed from the sums, the mean latency as an
 * impression-weighted mean, and percentiles from the points' latency counts added up (as the
 * aggregates merge several rows of one minute; a weighted mean of percentiles where a point has
 * no counts, from before they were kept).
 */
export function mergePoints(points: MinutePoint[], bucketMinutes: number): MinutePoint[] {
  if (bucketMinutes <= 1) return points;
  const merged: MinutePoint[] = [];
  for (let start = 0; start < points.length; start += bucketMinutes) {
    const bucket = points.slice(start, start + bucketMinutes);
    const sums = { impressions: 0, clicks: 0, fallbacks: 0, errors: 0 };
    const counts: number[] = [];
    let counted = 0;
    const latency = { mean: [0, 0], p50: [0, 0], p95: [0, 0], p99: [0, 0] } as Record<
      "mean" | "p50" | "p95" | "p99",
      Weighted
    >;
    for (const p of bucket) {
      sums.impressions += p.impressions;
      sums.clicks += p.clicks;
      sums.fallbacks += p.fallbacks;
      sums.errors += p.errors;
      add(latency.mean, p.latencyMeanMs, p.impressions);
      add(latency.p50, p.latencyP50Ms, p.impressions);
      add(latency.p95, p.latencyP95Ms, p.impressions);
      add(latency.p99, p.latencyP99Ms, p.impressions);
      addLatencyCounts(counts, p.latencyCounts ?? []);
      counted += latencyTotal(p.latencyCounts ?? []);
    }
    const [p50, p95, p99] = mergedPercentiles({
      rows: bucket.length,
      only: bucket.length === 1 ? bucket[0]! : null,
      impressions: sums.impressions,
      counts,
      counted,
      weightedMean: (i) => mean([latency.p50, latency.p95, latency.p99][i]!),
    });
    merged.push({
      minute: bucket[0]!.minute,
      ...sums,
      ctr: sums.impressions > 0 ? sums.clicks / sums.impressions : null,
      latencyMeanMs: mean(latency.mean),
      latencyP50Ms: p50,
      latencyP95Ms: p95,
      latencyP99Ms: p99,
      ...(counted === sums.impressions ? { latencyCounts: counts } : {}),
    });
  }
  return merged;
}

/** The latency counts are for merging only: 65 numbers a point are not sent to the dashboard. */
function withoutCounts<P extends MinutePoint | WindowTotals>(point: P): P {
  const { latencyCounts: _counts, ...rest } = point;
  return rest as P;
}

/** A monitoring window whose series are merged into buckets; totals stay as computed per minute. */
export function downsampleWindow(
  window: MonitoringWindow,
  bucketMinutes: number,
): MonitoringWindow & { bucketMinutes: number } {
  const series = <S extends Series>(s: S): S => ({
    ...s,
    totals: withoutCounts(s.totals),
    points: mergePoints(s.points, bucketMinutes).map(withoutCounts),
  });
  return {
    ...window,
    bucketMinutes,
    totals: withoutCounts(window.totals),
    overall: mergePoints(window.overall, bucketMinutes).map(withoutCounts),
    byModelVersion: window.byModelVersion.map(series),
    byVariant: window.byVariant.map(series),
  };
}
