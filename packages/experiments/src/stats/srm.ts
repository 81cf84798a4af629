import { chiSquareSurvival } from "./distributions.ts";

export const SRM_P_THRESHOLD = 0.001;

export interface SrmResult {
  chiSquare: number;
  df: number;
  pValue: number;
  expected: number[];
  /** true when p < 0.001: the split differs from the configured weights, so results are suspect */
  mismatch: boolean;
}

/** Sample-ratio-mismatch check: χ² goodness of fit of observed users against configured weights. */
export function sampleRatioMismatch(
  observed: number[],
  weights: number[],
  threshold = SRM_P_THRESHOLD,
): SrmResult {
  if (observed.length !== weights.length || observed.length < 2) {
    throw new RangeError(
      `SRM needs one weight per variant and at least 2 variants (got ${observed.length} counts, ${weights.length} weights)`,
    );
  }
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  // no users yet: nothing to test (and 0/0 would poison the statistic)
  const chiSquare =
    total === 0
      ? 0
      : observed.reduce((acc, o, i) => acc + (o - expected[i]!) ** 2 / expected[i]!, 0);
  const df = observed.length - 1;
  const pValue = total === 0 ? 1 : chiSquareSurvival(chiSquare, df);
  return { chiSquare, df, pValue, expected, mismatch: pValue < threshold };
}
