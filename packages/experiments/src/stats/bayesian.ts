import { normalCdf, normalPdf, normalQuantile } from "./distributions.ts";
import {
  mean,
  requireComparable,
  sampleVariance,
  type SufficientStats,
} from "./sufficient-stats.ts";

export interface BayesianResult {
  /** P(treatment better than control) under the posterior */
  chanceToWin: number;
  /** expected loss of shipping the treatment if it is in fact worse, in metric units */
  risk: number;
  /** expected loss of keeping the control if the treatment is in fact better */
  riskOfControl: number;
  /** credible interval of the absolute difference treatment − control */
  credibleInterval: [number, number];
}

/**
 * Normal approximation with flat priors: each variant's mean has posterior N(x̄, s²/n), so the
 * difference D ~ N(δ, σ²). Closed forms: P(D>0) = Φ(δ/σ); E[max(−D,0)] = σφ(δ/σ) − δΦ(−δ/σ).
 * The same approximation is used for proportions (a 0/1 mean) — with the sample sizes an A/B test
 * needs it is indistinguishable from Beta-Binomial and keeps one code path.
 * `higherIsBetter = false` (error rate, latency) flips what "win" and "loss" mean.
 */
export function bayesianComparison(
  control: SufficientStats,
  treatment: SufficientStats,
  options: { alpha?: number; higherIsBetter?: boolean } = {},
): BayesianResult {
  requireComparable(control, treatment);
  const alpha = options.alpha ?? 0.05;
  const sign = options.higherIsBetter === false ? -1 : 1;
  const delta = mean(treatment) - mean(control);
  const sigma = Math.sqrt(
    sampleVariance(control) / control.n + sampleVariance(treatment) / treatment.n,
  );
  const q = normalQuantile(1 - alpha / 2);
  const credibleInterval: [number, number] = [delta - q * sigma, delta + q * sigma];
  const gain = sign * delta; // positive when the treatment is better
  if (sigma === 0) {
    return {
      chanceToWin: gain > 0 ? 1 : gain < 0 ? 0 : 0.5,
      risk: Math.max(-gain, 0),
      riskOfControl: Math.max(gain, 0),
      credibleInterval,
    };
  }
  const z = gain / sigma;
  return {
    chanceToWin: normalCdf(z),
    risk: sigma * normalPdf(z) - gain * normalCdf(-z),
    riskOfControl: sigma * normalPdf(z) + gain * normalCdf(z),
    credibleInterval,
  };
}
