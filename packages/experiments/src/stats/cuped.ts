import type { CovariateStats, SufficientStats } from "./sufficient-stats.ts";

export interface CupedAdjustment {
  /** θ = Cov(Y, X) / Var(X) pooled over all variants */
  theta: number;
  /** overall pre-period mean the covariate is centred on */
  preMean: number;
  /** sufficient statistics of Y − θ(X − X̄), one per input, ready for any test in this package */
  adjusted: SufficientStats[];
}

/**
 * CUPED (Deng et al., 2013): subtract the part of the metric explained by a pre-period covariate.
 * θ is estimated on all variants pooled, which keeps the adjusted means unbiased for the treatment
 * effect because randomisation makes X independent of assignment. Works purely on sums, so the
 * adjusted Σy′ and Σy′² are expanded algebraically from Σy, Σy², Σx, Σx², Σxy.
 */
export function cupedAdjust(variants: CovariateStats[]): CupedAdjustment {
  const n = variants.reduce((a, v) => a + v.n, 0);
  const sx = variants.reduce((a, v) => a + v.preSum, 0);
  const sy = variants.reduce((a, v) => a + v.sum, 0);
  const sxx = variants.reduce((a, v) => a + v.preSumSquares, 0);
  const sxy = variants.reduce((a, v) => a + v.crossSum, 0);
  const varX = sxx - (sx * sx) / n;
  const covXY = sxy - (sx * sy) / n;
  const theta = varX > 0 ? covXY / varX : 0;
  const preMean = sx / n;
  const adjusted = variants.map((v) => {
    // y′ = y − θx + θx̄ = y − θx + c
    const c = theta * preMean;
    const sum = v.sum - theta * v.preSum + v.n * c;
    const sumSquares =
      v.sumSquares +
      theta * theta * v.preSumSquares +
      v.n * c * c -
      2 * theta * v.crossSum +
      2 * c * v.sum -
      2 * theta * c * v.preSum;
    return { n: v.n, sum, sumSquares: Math.max(0, sumSquares) };
  });
  return { theta, preMean, adjusted };
}
