import {
  normalQuantile,
  normalSurvival,
  studentTQuantile,
  studentTTwoSidedP,
} from "./distributions.ts";
import {
  mean,
  requireComparable,
  sampleVariance,
  type SufficientStats,
} from "./sufficient-stats.ts";

export interface WelchResult {
  /** treatment mean − control mean */
  difference: number;
  standardError: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom */
  df: number;
  pValue: number;
  ci: [number, number];
}

/** Welch's unequal-variance t-test on the difference of means (proportions are 0/1 means). */
export function welchTTest(
  control: SufficientStats,
  treatment: SufficientStats,
  alpha = 0.05,
): WelchResult {
  requireComparable(control, treatment);
  const vc = sampleVariance(control) / control.n;
  const vt = sampleVariance(treatment) / treatment.n;
  const difference = mean(treatment) - mean(control);
  const standardError = Math.sqrt(vc + vt);
  // Both variants constant (e.g. nobody clicked): no noise, so any difference is certain.
  const degenerate = standardError === 0;
  const df = degenerate
    ? control.n + treatment.n - 2
    : (vc + vt) ** 2 / (vc ** 2 / (control.n - 1) + vt ** 2 / (treatment.n - 1));
  const t = degenerate
    ? difference === 0
      ? 0
      : Math.sign(difference) * Infinity
    : difference / standardError;
  const q = studentTQuantile(1 - alpha / 2, df);
  return {
    difference,
    standardError,
    t,
    df,
    pValue: studentTTwoSidedP(t, df),
    ci: [difference - q * standardError, difference + q * standardError],
  };
}

export interface UpliftResult {
  /** mean_t / mean_c − 1 */
  uplift: number;
  /** delta-method standard error of the relative uplift */
  standardError: number;
  z: number;
  pValue: number;
  ci: [number, number];
}

/**
 * Relative uplift with a delta-method interval. Var(m_t/m_c) ≈ v_t/(n_t m_c²) + m_t² v_c/(n_c m_c⁴);
 * the delta method is a large-sample approximation, so the interval and p-value use the normal
 * distribution (as Eppo and GrowthBook do) and agree with each other: p < α ⇔ CI excludes 0.
 */
export function relativeUplift(
  control: SufficientStats,
  treatment: SufficientStats,
  alpha = 0.05,
): UpliftResult {
  requireComparable(control, treatment);
  const mc = mean(control);
  if (mc === 0) throw new RangeError("relative uplift is undefined when the control mean is 0");
  const mt = mean(treatment);
  const uplift = mt / mc - 1;
  const variance =
    sampleVariance(treatment) / (treatment.n * mc * mc) +
    (mt * mt * sampleVariance(control)) / (control.n * mc ** 4);
  const standardError = Math.sqrt(variance);
  const z =
    standardError === 0
      ? uplift === 0
        ? 0
        : Math.sign(uplift) * Infinity
      : uplift / standardError;
  const q = normalQuantile(1 - alpha / 2);
  return {
    uplift,
    standardError,
    z,
    pValue: Math.min(1, 2 * normalSurvival(Math.abs(z))),
    ci: [uplift - q * standardError, uplift + q * standardError],
  };
}
