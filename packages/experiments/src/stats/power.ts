import { normalCdf, normalQuantile } from "./distributions.ts";

export type MetricKind = "proportion" | "mean";

export interface PowerAssumptions {
  kind: MetricKind;
  /** control mean (a rate in [0,1] for proportions) */
  baselineMean: number;
  /** per-user variance; required for means, derived as p(1−p) for proportions */
  baselineVariance?: number;
  alpha?: number;
  /** target probability of detecting the effect, e.g. 0.8 */
  power?: number;
}

function variances(a: PowerAssumptions, relativeMde: number): [number, number] {
  if (a.kind === "proportion") {
    const pc = a.baselineMean;
    const pt = pc * (1 + relativeMde);
    if (!(pc > 0 && pc < 1 && pt > 0 && pt < 1))
      throw new RangeError(`proportions must lie in (0,1) (control ${pc}, treatment ${pt})`);
    return [pc * (1 - pc), pt * (1 - pt)];
  }
  if (!(a.baselineVariance !== undefined && a.baselineVariance > 0))
    throw new RangeError("baselineVariance > 0 is required for a mean metric");
  return [a.baselineVariance, a.baselineVariance];
}

/**
 * Power of the two-sided two-sample z-test with n users per variant; both rejection tails count,
 * as in statsmodels' NormalIndPower.
 */
export function powerAt(nPerVariant: number, relativeMde: number, a: PowerAssumptions): number {
  const [vc, vt] = variances(a, relativeMde);
  const delta = Math.abs(a.baselineMean * relativeMde);
  const crit = normalQuantile(1 - (a.alpha ?? 0.05) / 2);
  const shift = delta / Math.sqrt((vc + vt) / nPerVariant);
  return normalCdf(shift - crit) + normalCdf(-shift - crit);
}

function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface SampleSize {
  /** exact solution of power(n) = target */
  exact: number;
  /** users per variant to plan for (rounded up) */
  perVariant: number;
}

/** Users per variant needed to detect a relative change `relativeMde` with the given power. */
export function sampleSizePerVariant(relativeMde: number, a: PowerAssumptions): SampleSize {
  if (!(relativeMde !== 0 && Number.isFinite(relativeMde)))
    throw new RangeError("relativeMde must be a non-zero number");
  const target = a.power ?? 0.8;
  const [vc, vt] = variances(a, relativeMde);
  const delta = a.baselineMean * relativeMde;
  const approx =
    ((normalQuantile(1 - (a.alpha ?? 0.05) / 2) + normalQuantile(target)) ** 2 * (vc + vt)) /
    (delta * delta);
  // power() is increasing in n; the closed form ignores the far tail, so the root sits just below it.
  const exact = bisect((n) => powerAt(n, relativeMde, a) - target, approx / 2, approx * 2);
  return { exact, perVariant: Math.ceil(exact - 1e-9) };
}

/** Smallest relative change detectable with `nPerVariant` users per variant (positive direction). */
export function minimumDetectableEffect(nPerVariant: number, a: PowerAssumptions): number {
  const target = a.power ?? 0.8;
  let hi = 0.01;
  const maxHi = a.kind === "proportion" ? 1 / a.baselineMean - 1 - 1e-12 : Infinity;
  while (powerAt(nPerVariant, hi, a) < target) {
    if (hi >= maxHi)
      throw new RangeError(`no detectable effect with ${nPerVariant} users per variant`);
    hi = Math.min(hi * 2, maxHi);
  }
  return bisect((m) => powerAt(nPerVariant, m, a) - target, 0, hi);
}

export interface DurationEstimate {
  totalUsers: number;
  /** users entering the experiment per day */
  dailyExperimentUsers: number;
  days: number;
}

/**
 * Days until every variant has `perVariant` users. `trafficShare` is the fraction of daily users who
 * enter (namespace range width × allocation); `smallestWeight` is the smallest variant share (0–1).
 */
export function estimateDuration(input: {
  perVariant: number;
  smallestWeight: number;
  dailyUsers: number;
  trafficShare: number;
}): DurationEstimate {
  const { perVariant, smallestWeight, dailyUsers, trafficShare } = input;
  if (!(dailyUsers > 0 && trafficShare > 0 && smallestWeight > 0))
    throw new RangeError("dailyUsers, trafficShare and smallestWeight must be positive");
  const totalUsers = Math.ceil(perVariant / smallestWeight);
  const dailyExperimentUsers = dailyUsers * trafficShare;
  return { totalUsers, dailyExperimentUsers, days: Math.ceil(totalUsers / dailyExperimentUsers) };
}
