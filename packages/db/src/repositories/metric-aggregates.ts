/**
 * Monitoring read of the per-minute aggregates the stream worker writes: a dense per-minute
 * series per model version, per experiment variant and overall, plus window totals.
 */
import { addLatencyCounts, latencyQuantileMs, latencyTotal } from "@reco/contracts";
import type { PrismaClient } from "../generated/prisma/client.ts";

const MINUTE_MS = 60_000;

/** The columns a rollup needs from one MetricAggregate row. */
export interface AggregateRow {
  minute: Date;
  versionLabel: string;
  experimentKey: string;
  variant: string;
  impressions: number;
  clicks: number;
  errors: number;
  fallbacks: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencySumMs: number;
  /** responses per latency bucket (@reco/contracts' ladder); empty on rows from before they were kept */
  latencyCounts?: number[];
}

export interface MinutePoint {
  /** ISO start of the minute */
  minute: string;
  impressions: number;
  clicks: number;
  /** clicks / impressions; null without impressions */
  ctr: number | null;
  fallbacks: number;
  errors: number;
  latencyMeanMs: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  /**
   * Responses per latency bucket, when every merged row has them: what a coarser merge
   * (downsampling) needs to compute its percentiles from, and drops once done.
   */
  latencyCounts?: number[];
}

export interface WindowTotals extends Omit<MinutePoint, "minute"> {
  errorRate: number | null;
  fallbackRate: number | null;
  /** the highest p99 of any single minute: the tail a weighted mean would smooth away */
  worstMinuteP99Ms: number | null;
}

export interface Series {
  points: MinutePoint[];
  totals: WindowTotals;
}

export interface MonitoringWindow {
  /** ISO start of the first minute (inclusive) */
  from: string;
  /** ISO end of the last minute (exclusive) */
  to: string;
  minutes: number;
  totals: WindowTotals;
  overall: MinutePoint[];
  byModelVersion: (Series & { versionLabel: string })[];
  byVariant: (Series & { experimentKey: string; variant: string })[];
}

interface Sums {
  impressions: number;
  clicks: number;
  errors: number;
  fallbacks: number;
  latencySumMs: number;
  /** impression-weighted sums of the row percentiles and their weights */
  p: [number, number, number];
  pWeight: [number, number, number];
  worstP99: number | null;
  /** responses per latency bucket over the rows, the responses they count, and the rows merged */
  counts: number[];
  counted: number;
  rows: number;
  /** the row, while only one is merged (its percentiles are exact) */
  only: AggregateRow | null;
}

const emptySums = (): Sums => ({
  impressions: 0,
  clicks: 0,
  errors: 0,
  fallbacks: 0,
  latencySumMs: 0,
  p: [0, 0, 0],
  pWeight: [0, 0, 0],
  worstP99: null,
  counts: [],
  counted: 0,
  rows: 0,
  only: null,
});

function add(sums: Sums, row: AggregateRow): void {
  sums.impressions += row.impressions;
  sums.clicks += row.clicks;
  sums.errors += row.errors;
  sums.fallbacks += row.fallbacks;
  sums.latencySumMs += row.latencySumMs;
  const percentiles = [row.latencyP50Ms, row.latencyP95Ms, row.latencyP99Ms];
  percentiles.forEach((value, i) => {
    if (value === null || row.impressions <= 0) return;
    sums.p[i]! += value * row.impressions;
    sums.pWeight[i]! += row.impressions;
  });
  if (row.latencyP99Ms !== null && row.impressions > 0)
    sums.worstP99 = Math.max(sums.worstP99 ?? -Infinity, row.latencyP99Ms);
  addLatencyCounts(sums.counts, row.latencyCounts ?? []);
  sums.counted += latencyTotal(row.latencyCounts ?? []);
  sums.rows += 1;
  sums.only = sums.rows === 1 ? row : null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

const QUANTILES = [0.5, 0.95, 0.99] as const;

/**
 * Percentiles of several rows (variants of one version, versions of one minute, minutes of the
 * window) come from their latency counts added up, interpolated within a bucket (the counts add,
 * where a mean of percentiles is no percentile: it smooths a slow minute's tail away). One row's
 * are its own, exact. Rows from before the counts were kept fall back to the impression-weighted
 * mean of their percentiles.
 */
export function mergedPercentiles(merged: {
  rows: number;
  only: Pick<AggregateRow, "latencyP50Ms" | "latencyP95Ms" | "latencyP99Ms"> | null;
  impressions: number;
  counts: number[];
  counted: number;
  weightedMean: (i: number) => number | null;
}): [number | null, number | null, number | null] {
  const { only } = merged;
  // nothing served: a row's percentiles without impressions are not figures
  if (merged.impressions <= 0) return [null, null, null];
  if (merged.rows === 1 && only) return [only.latencyP50Ms, only.latencyP95Ms, only.latencyP99Ms];
  const counted = merged.counted === merged.impressions;
  return QUANTILES.map((q, i) =>
    counted ? latencyQuantileMs(merged.counts, q) : merged.weightedMean(i),
  ) as [number | null, number | null, number | null];
}

function point(sums: Sums): Omit<MinutePoint, "minute"> {
  const [p50, p95, p99] = mergedPercentiles({
    ...sums,
    weightedMean: (i) => ratio(sums.p[i]!, sums.pWeight[i]!),
  });
  return {
    impressions: sums.impressions,
    clicks: sums.clicks,
    ctr: ratio(sums.clicks, sums.impressions),
    fallbacks: sums.fallbacks,
    errors: sums.errors,
    latencyMeanMs: ratio(sums.latencySumMs, sums.impressions),
    latencyP50Ms: p50,
    latencyP95Ms: p95,
    latencyP99Ms: p99,
    ...(sums.counted === sums.impressions ? { latencyCounts: sums.counts } : {}),
  };
}

function totals(sums: Sums): WindowTotals {
  return {
    ...point(sums),
    errorRate: ratio(sums.errors, sums.impressions),
    fallbackRate: ratio(sums.fallbacks, sums.impressions),
    worstMinuteP99Ms: sums.worstP99,
  };
}

/** Accumulates rows per minute for one series and over its whole window. */
class SeriesSums {
  readonly perMinute: Sums[];
  readonly window = emptySums();
  constructor(minutes: number) {
    this.perMinute = Array.from({ length: minutes }, emptySums);
  }
  add(index: number, row: AggregateRow): void {
    add(this.perMinute[index]!, row);
    add(this.window, row);
  }
  series(fromMs: number): Series {
    return {
      points: this.perMinute.map((sums, i) => ({
        minute: new Date(fromMs + i * MINUTE_MS).toISOString(),
        ...point(sums),
      })),
      totals: totals(this.window),
    };
  }
}

/**
 * Rolls rows up into the window of `minutes` minutes ending with the minute that holds `until`.
 * Rows outside the window are ignored. Series are dense (a point for every minute, zero counts
 * and null latencies where nothing was recorded) and sorted by label; variant series only cover
 * rows that belong to an experiment.
 */
export function rollUpAggregates(
  rows: AggregateRow[],
  window: { minutes: number; until: Date },
): MonitoringWindow {
  const endMs = Math.floor(window.until.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const fromMs = endMs - window.minutes * MINUTE_MS;
  const overall = new SeriesSums(window.minutes);
  const byVersion = new Map<string, SeriesSums>();
  const byVariant = new Map<string, { experimentKey: string; variant: string; sums: SeriesSums }>();
  for (const row of rows) {
    const index = Math.floor((row.minute.getTime() - fromMs) / MINUTE_MS);
    if (index < 0 || index >= window.minutes) continue;
    overall.add(index, row);
    let version = byVersion.get(row.versionLabel);
    if (!version) byVersion.set(row.versionLabel, (version = new SeriesSums(window.minutes)));
    version.add(index, row);
    if (row.experimentKey) {
      const key = JSON.stringify([row.experimentKey, row.variant]);
      let variant = byVariant.get(key);
      if (!variant) {
        variant = {
          experimentKey: row.experimentKey,
          variant: row.variant,
          sums: new SeriesSums(window.minutes),
        };
        byVariant.set(key, variant);
      }
      variant.sums.add(index, row);
    }
  }
  const overallSeries = overall.series(fromMs);
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(endMs).toISOString(),
    minutes: window.minutes,
    totals: overallSeries.totals,
    overall: overallSeries.points,
    byModelVersion: [...byVersion]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([versionLabel, sums]) => ({ versionLabel, ...sums.series(fromMs) })),
    byVariant: [...byVariant.values()]
      .sort((a, b) =>
        a.experimentKey === b.experimentKey
          ? a.variant.localeCompare(b.variant)
          : a.experimentKey.localeCompare(b.experimentKey),
      )
      .map(({ experimentKey, variant, sums }) => ({
        experimentKey,
        variant,
        ...sums.series(fromMs),
      })),
  };
}

export class MetricAggregateRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** The last `minutes` minutes up to the minute holding `until` (default now). */
  async window(options: { minutes: number; until?: Date }): Promise<MonitoringWindow> {
    const until = options.until ?? new Date();
    const endMs = Math.floor(until.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const rows = await this.prisma.metricAggregate.findMany({
      where: {
        minute: { gte: new Date(endMs - options.minutes * MINUTE_MS), lt: new Date(endMs) },
      },
      select: {
        minute: true,
        versionLabel: true,
        experimentKey: true,
        variant: true,
        impressions: true,
        clicks: true,
        errors: true,
        fallbacks: true,
        latencyP50Ms: true,
        latencyP95Ms: true,
        latencyP99Ms: true,
        latencySumMs: true,
        latencyCounts: true,
      },
    });
    return rollUpAggregates(rows, { minutes: options.minutes, until });
  }
}
