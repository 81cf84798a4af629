/**
 * Always-valid confidence intervals from the normal-mixture boundary of Howard, Ramdas, McAuliffe
 * and Sekhon (2021, eq. 14), the form GrowthBook uses. For a mean-zero sum S_N of N observations of
 * variance s², the mixture martingale ∫exp(λS − λ²Ns²/2) dN(0, ρ²/s²)(λ) crosses 1/α only with
 * probability α at ANY time (Ville), which gives the half-width
 *   sqrt( s² · 2(Nρ² + 1)/(N²ρ²) · ln( sqrt(Nρ² + 1)/α ) ),
 * so the interval may be looked at after every batch without inflating false positives.
 * ρ is tuned so the boundary is tightest near `tuningN` total users.
 */
export function mixtureRho(tuningN: number, alpha: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuningN);
}

export interface SequentialInput {
  estimate: number;
  /** variance of the estimate (standard error squared) at the current sample */
  variance: number;
  /** total users in the comparison so far */
  n: number;
  /** total users at which the interval should be tightest (e.g. the planned sample size) */
  tuningN: number;
  alpha?: number;
}

export function sequentialHalfWidth({
  variance,
  n,
  tuningN,
  alpha = 0.05,
}: Omit<SequentialInput, "estimate">): number {
  if (!(n > 0 && tuningN > 0))
    throw new RangeError(
      `sequential interval needs n > 0 and tuningN > 0 (n=${n}, tuningN=${tuningN})`,
    );
  const rho2 = mixtureRho(tuningN, alpha) ** 2;
  const s2 = variance * n;
  return Math.sqrt(
    ((s2 * 2 * (n * rho2 + 1)) / (n * n * rho2)) * Math.log(Math.sqrt(n * rho2 + 1) / alpha),
  );
}

export function sequentialInterval(input: SequentialInput): [number, number] {
  const half = sequentialHalfWidth(input);
  return [input.estimate - half, input.estimate + half];
}
