import { controlVariant, type ExperimentDefinition } from "./definition.ts";
import { ExperimentValidationError } from "./errors.ts";
import { METRICS, type MetricKey } from "./metrics.ts";
import { overallVerdict } from "./outcome.ts";
import {
  perVariantStatsSchema,
  type Comparison,
  type ExperimentResults,
  type MetricResult,
  type ResultsOptions,
  type VariantMetricResult,
} from "./results-types.ts";
import { bayesianComparison } from "./stats/bayesian.ts";
import { betaBinomialComparison } from "./stats/beta-binomial.ts";
import { cupedAdjust } from "./stats/cuped.ts";
import { relativeUplift, welchTTest } from "./stats/frequentist.ts";
import { benjaminiHochbergAdjust, holmAdjust } from "./stats/multiple-comparisons.ts";
import { sequentialInterval } from "./stats/sequential.ts";
import { sampleRatioMismatch } from "./stats/srm.ts";
import { hasCovariate, mean, type SufficientStats } from "./stats/sufficient-stats.ts";
import { comparisonVerdict, formatP, type ComparisonOutcome } from "./verdict.ts";

interface PendingComparison {
  metricIndex: number;
  variantIndex: number;
  partial: Omit<Comparison, "adjustedPValue" | "sequentialCi" | "significant" | "outcome">;
  variance: number;
  n: number;
}

/**
 * The exact Beta-Binomial sum costs O(conversions); beyond this many the normal approximation is
 * indistinguishable and the results page stays fast.
 */
const BETA_EXACT_MAX_COUNT = 100_000;

/**
 * The fewest users with and without the event that each variant needs before a proportion metric
 * is compared (the usual success–failure condition of the normal approximation). With fewer, the
 * delta-method interval is far too narrow: a variant with 0 clicks has a variance of 0, and A/A
 * experiments of 30–300 users per variant at rates of 2–5 % came out "significant" 7–25 % of the
 * time at α = 0.05 (test/simulation.test.ts measures it).
 */
export const MIN_OUTCOMES_PER_VARIANT = 10;

/**
 * The fewest users each variant needs before a mean metric (rating, latency) is compared: the
 * interval uses the normal distribution, which at a handful of users is too narrow (A/A at 5 users
 * per variant rejected 9.3 % of the time at α = 0.05 in fixed mode, at 10 users 6.7 %, at 30 5.5 %).
 */
export const MIN_USERS_PER_VARIANT_FOR_MEANS = 30;

/** Why a mean metric's variants are too few to compare yet, or null when they are not. */
function tooFewUsers(
  control: SufficientStats,
  treatment: SufficientStats,
  names: { control: string; treatment: string },
): string | null {
  if (Math.min(control.n, treatment.n) >= MIN_USERS_PER_VARIANT_FOR_MEANS) return null;
  return (
    `fewer than ${MIN_USERS_PER_VARIANT_FOR_MEANS} users in a variant ` +
    `(${names.control} ${control.n}, ${names.treatment} ${treatment.n})`
  );
}

/** Why a proportion metric's variants are too few to compare yet, or null when they are not. */
function tooFewOutcomes(
  control: SufficientStats,
  treatment: SufficientStats,
  names: { control: string; treatment: string },
): string | null {
  const counts = (s: SufficientStats) => [s.sum, s.n - s.sum];
  const [withC, withoutC] = counts(control);
  const [withT, withoutT] = counts(treatment);
  if (Math.min(withC!, withoutC!, withT!, withoutT!) >= MIN_OUTCOMES_PER_VARIANT) return null;
  return (
    `fewer than ${MIN_OUTCOMES_PER_VARIANT} users with and without the event in a variant ` +
    `(${names.control} ${withC} / ${withoutC}, ${names.treatment} ${withT} / ${withoutT})`
  );
}

/** 0/1 per-user values (Σx² = Σx, whole-number conversions) small enough for the exact model. */
function isWholeBinary(s: SufficientStats, higherIsBetter: boolean): boolean {
  // the sum runs over the "good" outcomes: conversions, or non-events for error rates
  const small = (higherIsBetter ? s.sum : s.n - s.sum) <= BETA_EXACT_MAX_COUNT;
  return Number.isInteger(s.sum) && s.sum === s.sumSquares && s.sum >= 0 && s.sum <= s.n && small;
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
    const bayesianModel =
      info.kind === "proportion" &&
      !adjustment &&
      analysed.every((a) => a === undefined || isWholeBinary(a, info.higherIsBetter))
        ? "beta-binomial"
        : "normal";

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
              : (info.kind === "proportion" ? tooFewOutcomes : tooFewUsers)(
                  raw[controlIndex]!,
                  raw[variantIndex]!,
                  { control: control.name, treatment: v.name },
                );
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
      const normal = bayesianComparison(controlStats, s, {
        alpha,
        higherIsBetter: info.higherIsBetter,
      });
      const bayes =
        bayesianModel === "beta-binomial"
          ? betaBinomialComparison(
              { users: controlStats.n, conversions: controlStats.sum },
              { users: s.n, conversions: s.sum },
              { higherIsBetter: info.higherIsBetter },
            )
          : normal;
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
          credibleInterval: normal.credibleInterval,
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
      bayesianModel,
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
