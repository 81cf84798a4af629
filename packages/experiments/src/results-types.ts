import { z } from "zod";
import type { ComparisonOutcome } from "./verdict.ts";
import { metricKeySchema } from "./metric-key.ts";
import type { MetricKey } from "./metrics.ts";
import type { SrmResult } from "./stats/srm.ts";
import { sufficientStatsSchema } from "./stats/sufficient-stats.ts";

/** Per variant: users exposed (for SRM) and per-user sufficient statistics per metric. */
export const perVariantStatsSchema = z.record(
  z.string(),
  z.object({
    users: z.number().int().nonnegative(),
    metrics: z.partialRecord(metricKeySchema, sufficientStatsSchema),
  }),
);
export type PerVariantStats = z.input<typeof perVariantStatsSchema>;

export interface ResultsOptions {
  alpha?: number;
  /**
   * "sequential" (default) decides on always-valid intervals, safe to look at every day;
   * "fixed" decides on Holm-adjusted p-values and only once the minimum sample size is reached.
   */
  mode?: "sequential" | "fixed";
  /** apply CUPED when every variant carries pre-period covariate sums (default true) */
  cuped?: boolean;
  /** total users per comparison at which sequential intervals are tightest (default 2 × minSampleSize, else 10,000) */
  sequentialTuningN?: number;
}

export interface Comparison {
  absoluteDifference: number;
  /** Welch t-test on the absolute difference */
  welch: { t: number; df: number; pValue: number; ci: [number, number] };
  /** relative uplift vs control and its delta-method interval */
  uplift: number;
  ci: [number, number];
  pValue: number;
  adjustedPValue: { holm: number; benjaminiHochberg: number };
  chanceToWin: number;
  /** expected loss of shipping this variant, relative to the control mean */
  risk: number;
  /** Bayesian credible interval of the absolute difference treatment − control, in metric units */
  credibleInterval: [number, number];
  /** always-valid interval of the relative uplift at α / (comparisons in the family) */
  sequentialCi: [number, number];
  significant: boolean;
  outcome: ComparisonOutcome;
}

export interface VariantMetricResult {
  variant: string;
  isControl: boolean;
  n: number;
  mean: number | null;
  /** CUPED-adjusted mean, when applied */
  adjustedMean: number | null;
  comparison: Comparison | null;
  verdict: string;
}

export interface MetricResult {
  metric: MetricKey;
  label: string;
  role: "primary" | "guardrail";
  kind: "proportion" | "mean";
  higherIsBetter: boolean;
  cuped: { applied: boolean; theta: number | null };
  /**
   * "beta-binomial" (exact, uniform prior) for 0/1 metrics with whole-number counts; "normal"
   * otherwise, including after CUPED. The credible interval is always the normal one.
   */
  bayesianModel: "beta-binomial" | "normal";
  variants: VariantMetricResult[];
}

export type ExperimentOutcome =
  | "srm"
  | "insufficient_data"
  | "waiting_for_sample"
  | "guardrail_violated"
  | "winner"
  | "loser"
  | "inconclusive";

export interface ExperimentResults {
  experimentKey: string;
  alpha: number;
  mode: "sequential" | "fixed";
  variants: { name: string; isControl: boolean; users: number; expectedShare: number }[];
  srm: SrmResult & { verdict: string };
  sampleSize: { minPerVariant: number; smallestVariant: number; reached: boolean };
  metrics: MetricResult[];
  outcome: ExperimentOutcome;
  /** one sentence a product manager can act on */
  verdict: string;
  winner: string | null;
}
