import { logBeta } from "./distributions.ts";

export interface Conversions {
  users: number;
  conversions: number;
}

export interface BetaBinomialResult {
  /** P(treatment rate better than control rate) under the Beta posteriors */
  chanceToWin: number;
  /** expected loss of shipping the treatment, in rate units */
  risk: number;
  /** expected loss of keeping the control */
  riskOfControl: number;
}

interface BetaPosterior {
  a: number;
  b: number;
}

/**
 * P(X > Y) for X ~ Beta(x.a, x.b), Y ~ Beta(y.a, y.b) with integer x.a (Evan Miller's closed form):
 * Σ_{i<x.a} B(y.a+i, y.b+x.b) / ((x.b+i) B(1+i, x.b) B(y.a, y.b)). Consecutive terms differ by the
 * factor (y.a+i)(x.b+i) / ((y.a+y.b+x.b+i)(1+i)), so the sum walks in log space (no underflow of
 * early terms) with one log per term, over the smaller shape via P(X > Y) = 1 − P(Y > X).
 */
export function probabilityBetaGreater(x: BetaPosterior, y: BetaPosterior): number {
  if (y.a < x.a) return 1 - probabilityBetaGreater(y, x);
  let logTerm = logBeta(y.a, y.b + x.b) - logBeta(y.a, y.b);
  let total = 0;
  for (let i = 0; i < x.a; i++) {
    total += Math.exp(logTerm);
    logTerm += Math.log(((y.a + i) * (x.b + i)) / ((y.a + y.b + x.b + i) * (1 + i)));
  }
  return Math.min(1, Math.max(0, total));
}

/**
 * Beta-Binomial model for a 0/1 metric with a Beta(prior, prior) prior (integer, default 1 =
 * uniform). Risk of shipping B when A might be better: E[max(p_A − p_B, 0)]
 * = E[p_A]·P(A⁺ > B) − E[p_B]·P(A > B⁺), where A⁺ = Beta(a+1, b) — because p·Beta(a,b)'s density
 * is E[p]·Beta(a+1,b)'s. Only valid for whole-number conversions (not after CUPED).
 */
export function betaBinomialComparison(
  control: Conversions,
  treatment: Conversions,
  options: { higherIsBetter?: boolean; prior?: number } = {},
): BetaBinomialResult {
  const prior = options.prior ?? 1;
  for (const [name, c] of [
    ["control", control],
    ["treatment", treatment],
  ] as const) {
    if (
      !Number.isInteger(c.conversions) ||
      !Number.isInteger(c.users) ||
      c.conversions < 0 ||
      c.conversions > c.users
    ) {
      throw new RangeError(
        `${name}: conversions must be whole numbers between 0 and users (got ${c.conversions} of ${c.users})`,
      );
    }
  }
  if (!Number.isInteger(prior) || prior < 1)
    throw new RangeError(`prior must be a whole number ≥ 1 (got ${prior})`);
  const post = (c: Conversions): BetaPosterior => ({
    a: prior + c.conversions,
    b: prior + c.users - c.conversions,
  });
  // Work in "good" units: for lower-is-better metrics swap the roles of success and failure.
  const flip = (p: BetaPosterior): BetaPosterior =>
    options.higherIsBetter === false ? { a: p.b, b: p.a } : p;
  const a = flip(post(control));
  const b = flip(post(treatment));
  const meanOf = (p: BetaPosterior) => p.a / (p.a + p.b);
  const plus = (p: BetaPosterior) => ({ a: p.a + 1, b: p.b });
  const chanceToWin = probabilityBetaGreater(b, a);
  const risk =
    meanOf(a) * probabilityBetaGreater(plus(a), b) - meanOf(b) * probabilityBetaGreater(a, plus(b));
  const riskOfControl =
    meanOf(b) * probabilityBetaGreater(plus(b), a) - meanOf(a) * probabilityBetaGreater(b, plus(a));
  return { chanceToWin, risk: Math.max(0, risk), riskOfControl: Math.max(0, riskOfControl) };
}
