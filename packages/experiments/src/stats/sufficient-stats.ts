import { z } from "zod";

/** Per-user sufficient statistics for one variant and metric: users, Σx and Σx² over users. */
export interface SufficientStats {
  n: number;
  sum: number;
  sumSquares: number;
}

/** Adds the pre-period covariate x (Σx, Σx², Σxy) that CUPED needs. */
export interface CovariateStats extends SufficientStats {
  preSum: number;
  preSumSquares: number;
  crossSum: number;
}

export const sufficientStatsSchema = z.object({
  n: z.number().int().nonnegative(),
  sum: z.number().finite(),
  sumSquares: z.number().finite().nonnegative(),
  preSum: z.number().finite().optional(),
  preSumSquares: z.number().finite().nonnegative().optional(),
  crossSum: z.number().finite().optional(),
});

export function mean(stats: SufficientStats): number {
  return stats.sum / stats.n;
}

/** Unbiased sample variance; clamped at 0 because Σx² − (Σx)²/n can round slightly negative. */
export function sampleVariance(stats: SufficientStats): number {
  if (stats.n < 2) return NaN;
  return Math.max(0, (stats.sumSquares - (stats.sum * stats.sum) / stats.n) / (stats.n - 1));
}

/** Sufficient statistics of a 0/1 metric from users and conversions (Σx² = Σx). */
export function proportionStats(n: number, conversions: number): SufficientStats {
  return { n, sum: conversions, sumSquares: conversions };
}

export function hasCovariate(stats: SufficientStats): stats is CovariateStats {
  const s = stats as Partial<CovariateStats>;
  return s.preSum !== undefined && s.preSumSquares !== undefined && s.crossSum !== undefined;
}

export function requireComparable(control: SufficientStats, treatment: SufficientStats): void {
  if (control.n < 2 || treatment.n < 2) {
    throw new RangeError(
      `need at least 2 users per variant (control n=${control.n}, treatment n=${treatment.n})`,
    );
  }
}
