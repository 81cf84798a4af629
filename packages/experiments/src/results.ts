import { z } from "zod";
import { controlVariant, type ExperimentDefinition } from "./definition.ts";
import { ExperimentValidationError } from "./errors.ts";
import { METRICS, metricKeySchema, type MetricKey } from "./metrics.ts";
import { bayesianComparison } from "./stats/bayesian.ts";
import { cupedAdjust } from "./stats/cuped.ts";
import { relativeUplift, welchTTest } from "./stats/frequentist.ts";
import { benjaminiHochbergAdjust, holmAdjust } from "./stats/multiple-comparisons.ts";
import { sequentialInterval } from "./stats/sequential.ts";
import { sampleRatioMismatch, type SrmResult } from "./stats/srm.ts";
import {
  hasCovariate,
  mean,
  sufficientStatsSchema,
  type SufficientStats,
} from "./stats/sufficient-stats.ts";
import { comparisonVerdict, formatP, formatPercent, type ComparisonOutcome } from "./verdict.ts";

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

interface PendingComparison {
  metricIndex: number;
  variantIndex: number;
  partial: Omit<Comparison, "adjustedPValue" | "sequentialCi" | "significant" | "outcome">;
  variance: number;
  n: number;
}

function parseStats(def: ExperimentDefinition, stats: unknown) {
  const parsed = perVariantStatsSchema.safeParse(stats);
  if (!parsed.success) {
    throw ExperimentValidationError.fromZod(parsed.error);
  }
  const known = new Set(def.variants.map((v) => v.name));
  const unknown = Object.keys(parsed.data).filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new ExperimentValidationError(
      unknown.map((name) => ({ field: name, message: `"${name}" is not a variant of ${def.key}` })),
    );
  return parsed.data;
}

/**
 * Everything the results page shows, per variant × metric, from per-user sufficient statistics.
 * The family for multiple comparisons is every (treatment, metric) pair, primary and guardrails.
 */
export function computeResults(
  def: ExperimentDefinition,
  perVariantStats: unknown,
  options: ResultsOptions = {},
): ExperimentResults {
  if (def.variants.length < 2 || def.primaryMetric === undefined) {
    throw new ExperimentValidationError([
      {
        field: def.variants.length < 2 ? "variants" : "primaryMetric",
        message: "results need at least 2 variants and a primary metric",
      },
    ]);
  }
  const stats = parseStats(def, perVariantStats);
  const alpha = options.alpha ?? 0.05;
  const mode = options.mode ?? "sequential";
  const tuningN =
    options.sequentialTuningN ?? (def.minSampleSize > 0 ? 2 * def.minSampleSize : 10_000);
  const control = controlVariant(def);
  const controlIndex = def.variants.indexOf(control);
  const users = def.variants.map((v) => stats[v.name]?.users ?? 0);

  const srmRaw = sampleRatioMismatch(
    users,
    def.variants.map((v) => v.weight),
  );
  const srm = {
    ...srmRaw,
    verdict: srmRaw.mismatch
      ? `Sample ratio mismatch (${formatP(srmRaw.pValue)}): observed ${users.join(" / ")} users against configured weights ${def.variants.map((v) => v.weight).join(" / ")}. Fix assignment or exposure logging before trusting these results.`
      : `Traffic split matches the configured weights (${formatP(srmRaw.pValue)}).`,
  };

  const metricKeys: { metric: MetricKey; role: "primary" | "guardrail" }[] = [
    { metric: def.primaryMetric, role: "primary" },
    ...def.guardrailMetrics.map((metric) => ({ metric, role: "guardrail" as const })),
  ];
  const pending: PendingComparison[] = [];

  const metrics: MetricResult[] = metricKeys.map(({ metric, role }, metricIndex) => {
    const info = METRICS[metric];
    const raw = def.variants.map((v) => stats[v.name]?.metrics[metric]);
    const complete = raw.every((s): s is NonNullable<typeof s> => s !== undefined && s.n > 0);
    const useCuped = complete && options.cuped !== false && raw.every(hasCovariate);
    const adjustment = useCuped ? cupedAdjust(raw.filter(hasCovariate)) : null;
    const analysed: (SufficientStats | undefined)[] = adjustment ? adjustment.adjusted : raw;
    const controlStats = analysed[controlIndex];

    const variants = def.variants.map((v, variantIndex): VariantMetricResult => {
      const s = analysed[variantIndex];
      const row: VariantMetricResult = {
        variant: v.name,
        isControl: v.isControl,
        n: s?.n ?? 0,
        mean: raw[variantIndex] && raw[variantIndex].n > 0 ? mean(raw[variantIndex]) : null,
        adjustedMean: adjustment && s ? mean(s) : null,
        comparison: null,
        verdict: "",
      };
      if (v.isControl) {
        row.verdict = `${v.name} is the control: the baseline every variant is compared with.`;
        return row;
      }
      const problem =
        !s || !controlStats
          ? "no data yet"
          : s.n < 2 || controlStats.n < 2
            ? "fewer than 2 users in a variant"
            : mean(controlStats) === 0
              ? "control mean is 0"
              : null;
      if (problem || !s || !controlStats) {
        row.verdict = comparisonVerdict({
          variant: v.name,
          control: control.name,
          metricLabel: info.label,
          outcome: "no_data",
          reason: problem ?? undefined,
        });
        return row;
      }
      const welch = welchTTest(controlStats, s, alpha);
      const rel = relativeUplift(controlStats, s, alpha);
      const bayes = bayesianComparison(controlStats, s, {
        alpha,
        higherIsBetter: info.higherIsBetter,
      });
      const mc = mean(controlStats);
      pending.push({
        metricIndex,
        variantIndex,
        variance: rel.standardError ** 2,
        n: controlStats.n + s.n,
        partial: {
          absoluteDifference: welch.difference,
          welch: { t: welch.t, df: welch.df, pValue: welch.pValue, ci: welch.ci },
          uplift: rel.uplift,
          ci: rel.ci,
          pValue: rel.pValue,
          chanceToWin: bayes.chanceToWin,
          risk: bayes.risk / Math.abs(mc),
          credibleInterval: bayes.credibleInterval,
        },
      });
      return row;
    });
    return {
      metric,
      label: info.label,
      role,
      kind: info.kind,
      higherIsBetter: info.higherIsBetter,
      cuped: { applied: useCuped, theta: adjustment?.theta ?? null },
      variants,
    };
  });

  const holm = holmAdjust(pending.map((p) => p.partial.pValue));
  const bh = benjaminiHochbergAdjust(pending.map((p) => p.partial.pValue));
  const familyAlpha = alpha / Math.max(1, pending.length);
  pending.forEach((p, i) => {
    const metric = metrics[p.metricIndex]!;
    const row = metric.variants[p.variantIndex]!;
    const sequentialCi = sequentialInterval({
      estimate: p.partial.uplift,
      variance: p.variance,
      n: p.n,
      tuningN,
      alpha: familyAlpha,
    });
    const decisive = mode === "sequential" ? sequentialCi : null;
    const significant = decisive ? decisive[0] > 0 || decisive[1] < 0 : holm[i]! < alpha;
    const improved = p.partial.uplift > 0 === metric.higherIsBetter;
    const outcome: ComparisonOutcome = !significant
      ? "no_difference"
      : improved
        ? "better"
        : "worse";
    row.comparison = {
      ...p.partial,
      adjustedPValue: { holm: holm[i]!, benjaminiHochberg: bh[i]! },
      sequentialCi,
      significant,
      outcome,
    };
    row.verdict = comparisonVerdict({
      variant: row.variant,
      control: control.name,
      metricLabel: metric.label,
      outcome,
      uplift: p.partial.uplift,
      interval: decisive ?? p.partial.ci,
      intervalLabel: decisive ? "always-valid CI" : `${Math.round((1 - alpha) * 100)} % CI`,
    });
  });

  const smallest = Math.min(...users);
  const sampleSize = {
    minPerVariant: def.minSampleSize,
    smallestVariant: smallest,
    reached: smallest >= def.minSampleSize,
  };
  const { outcome, verdict, winner } = overallVerdict({
    def,
    control: control.name,
    metrics,
    srm,
    sampleSize,
    mode,
  });
  return {
    experimentKey: def.key,
    alpha,
    mode,
    variants: def.variants.map((v, i) => ({
      name: v.name,
      isControl: v.isControl,
      users: users[i]!,
      expectedShare: v.weight / 100,
    })),
    srm,
    sampleSize,
    metrics,
    outcome,
    verdict,
    winner,
  };
}

function overallVerdict(input: {
  def: ExperimentDefinition;
  control: string;
  metrics: MetricResult[];
  srm: ExperimentResults["srm"];
  sampleSize: ExperimentResults["sampleSize"];
  mode: "sequential" | "fixed";
}): { outcome: ExperimentOutcome; verdict: string; winner: string | null } {
  const { metrics, srm, sampleSize, control } = input;
  const primary = metrics[0]!;
  const treatments = primary.variants.filter((v) => !v.isControl);
  if (srm.mismatch) return { outcome: "srm", verdict: srm.verdict, winner: null };
  if (treatments.some((t) => t.comparison === null)) {
    return {
      outcome: "insufficient_data",
      verdict: `Not enough data on ${primary.label} yet to compare every variant with ${control}.`,
      winner: null,
    };
  }
  if (input.mode === "fixed" && !sampleSize.reached) {
    return {
      outcome: "waiting_for_sample",
      verdict: `Keep running: the smallest variant has ${sampleSize.smallestVariant} of the ${sampleSize.minPerVariant} users planned; fixed-horizon results are not valid before that.`,
      winner: null,
    };
  }
  const violations = metrics
    .filter((m) => m.role === "guardrail")
    .flatMap((m) =>
      m.variants
        .filter((v) => v.comparison?.outcome === "worse")
        .map((v) => `${v.variant} on ${m.label} (${formatPercent(v.comparison!.uplift)})`),
    );
  if (violations.length > 0)
    return {
      outcome: "guardrail_violated",
      verdict: `Guardrail violated: ${violations.join(", ")}. Do not ship.`,
      winner: null,
    };
  const better = treatments
    .filter((t) => t.comparison!.outcome === "better")
    .sort((a, b) => Math.abs(b.comparison!.uplift) - Math.abs(a.comparison!.uplift));
  if (better.length > 0) {
    const best = better[0]!;
    return {
      outcome: "winner",
      verdict: `${best.verdict} Chance to beat ${control}: ${(best.comparison!.chanceToWin * 100).toFixed(1)} %.`,
      winner: best.variant,
    };
  }
  if (treatments.every((t) => t.comparison!.outcome === "worse")) {
    return {
      outcome: "loser",
      verdict: `Every variant does worse than ${control} on ${primary.label}; keep ${control}.`,
      winner: null,
    };
  }
  return {
    outcome: "inconclusive",
    verdict: `No variant differs detectably from ${control} on ${primary.label} yet. ${treatments.map((t) => t.verdict).join(" ")}`,
    winner: null,
  };
}
