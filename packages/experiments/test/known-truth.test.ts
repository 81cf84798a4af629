import { describe, expect, it } from "vitest";
import {
  bayesianComparison,
  betaBinomialComparison,
  cupedAdjust,
  mean,
  welchTTest,
  type CovariateStats,
} from "../src/index.ts";
import { binomial, mulberry32, normal } from "./prng.ts";

/**
 * Simulations with a known truth: the data are drawn from parameters the test chose, so what the
 * statistics claim (a probability, an expected loss, an unbiased effect) can be compared with what
 * actually happened. Tolerance: 4 Monte Carlo standard errors of the checked average (about 6 in
 * 100,000 for a correct implementation; the seeds are fixed, so a run is reproducible).
 */
const Z = 4;

/** Mean and its standard error. */
function summary(values: number[]): { mean: number; se: number } {
  const n = values.length;
  const m = values.reduce((a, v) => a + v, 0) / n;
  const variance = values.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1);
  return { mean: m, se: Math.sqrt(variance / n) };
}

/** The average of `values` is `target` within Z standard errors. */
function expectAverage(values: number[], target: number, label: string): void {
  const { mean: m, se } = summary(values);
  expect(
    Math.abs(m - target) <= Z * se,
    `${label}: average ${m} vs ${target} (± ${Z} × ${se.toExponential(2)})`,
  ).toBe(true);
}

/** Users with outcome y = 10 + β(x − 10) + effect + e, x ~ N(10, 3²), e ~ N(0, σe²); CUPED sums. */
function covariateArm(
  random: () => number,
  n: number,
  beta: number,
  sigmaE: number,
  effect: number,
): CovariateStats {
  const s = { n, sum: 0, sumSquares: 0, preSum: 0, preSumSquares: 0, crossSum: 0 };
  for (let i = 0; i < n; i++) {
    const x = 10 + 3 * normal(random);
    const y = 10 + beta * (x - 10) + effect + sigmaE * normal(random);
    s.sum += y;
    s.sumSquares += y * y;
    s.preSum += x;
    s.preSumSquares += x * x;
    s.crossSum += x * y;
  }
  return s;
}

describe("Beta-Binomial model: calibrated when the rates are drawn from its own uniform prior", () => {
  // p_control, p_treatment ~ Uniform(0, 1) = Beta(1, 1), the model's prior: by Bayes' theorem the
  // reported P(treatment better) and expected loss are exactly the conditional expectations of
  // the truth given the data, so their errors average to 0 over draws, and over any subset chosen
  // from the data alone.
  for (const higherIsBetter of [true, false]) {
    it(`chance to win and risk match what happened (higherIsBetter ${higherIsBetter})`, () => {
      const random = mulberry32(higherIsBetter ? 101 : 202);
      const winError: number[] = [];
      const winErrorConfident: number[] = [];
      const riskError: number[] = [];
      const riskOfControlError: number[] = [];
      for (let run = 0; run < 6000; run++) {
        const pc = random();
        const pt = random();
        const control = { users: 30, conversions: binomial(random, 30, pc) };
        const treatment = { users: 40, conversions: binomial(random, 40, pt) };
        const r = betaBinomialComparison(control, treatment, { higherIsBetter });
        const gain = higherIsBetter ? pt - pc : pc - pt; // how much better the treatment truly is
        const won = gain > 0 ? 1 : 0;
        winError.push(won - r.chanceToWin);
        if (r.chanceToWin > 0.8) winErrorConfident.push(won - r.chanceToWin);
        riskError.push(Math.max(-gain, 0) - r.risk);
        riskOfControlError.push(Math.max(gain, 0) - r.riskOfControl);
      }
      expectAverage(winError, 0, "P(win) − chanceToWin");
      expect(winErrorConfident.length).toBeGreaterThan(1000);
      expectAverage(winErrorConfident, 0, "P(win) − chanceToWin where chanceToWin > 0.8");
      expectAverage(riskError, 0, "loss of shipping − risk");
      expectAverage(riskOfControlError, 0, "loss of keeping control − riskOfControl");
    });
  }
});

describe("normal Bayesian model: calibrated under a flat prior on the difference", () => {
  // The true difference δ is drawn uniformly from ±10 standard errors (a flat prior), and only runs
  // whose estimate lies within ±4 of them are scored (a choice made from the data alone, so it
  // keeps calibration): there the posterior is N(δ̂, σ²) up to a truncation ≥ 6 standard errors
  // away. With 400 users per arm the estimated σ is within a few % of the true one.
  for (const higherIsBetter of [true, false]) {
    it(`chance to win, risk and the credible interval match the true difference (higherIsBetter ${higherIsBetter})`, () => {
      const random = mulberry32(higherIsBetter ? 303 : 404);
      const n = 400;
      const sd = 2;
      const se = sd * Math.sqrt(2 / n);
      const winError: number[] = [];
      const riskError: number[] = [];
      const riskOfControlError: number[] = [];
      const covered: number[] = [];
      const arm = (mu: number) => {
        let sum = 0;
        let sumSquares = 0;
        for (let i = 0; i < n; i++) {
          const y = mu + sd * normal(random);
          sum += y;
          sumSquares += y * y;
        }
        return { n, sum, sumSquares };
      };
      for (let run = 0; run < 8000; run++) {
        const delta = (random() * 2 - 1) * 10 * se;
        const control = arm(5);
        const treatment = arm(5 + delta);
        if (Math.abs(mean(treatment) - mean(control)) > 4 * se) continue;
        const r = bayesianComparison(control, treatment, { alpha: 0.05, higherIsBetter });
        const gain = higherIsBetter ? delta : -delta;
        winError.push((gain > 0 ? 1 : 0) - r.chanceToWin);
        riskError.push(Math.max(-gain, 0) - r.risk);
        riskOfControlError.push(Math.max(gain, 0) - r.riskOfControl);
        covered.push(r.credibleInterval[0] <= delta && delta <= r.credibleInterval[1] ? 1 : 0);
      }
      expect(covered.length).toBeGreaterThan(2500);
      expectAverage(winError, 0, "P(win) − chanceToWin");
      expectAverage(riskError, 0, "loss of shipping − risk");
      expectAverage(riskOfControlError, 0, "loss of keeping control − riskOfControl");
      expectAverage(covered, 0.95, "95 % credible interval coverage");
    });
  }
});

describe("CUPED: a known covariate slope and a known effect", () => {
  // x ~ N(10, 3²), y = 10 + β(x − 10) + Δ·treated + e with β = 0.8, σe = 1.5: the pooled slope θ is
  // β, the adjusted difference of means is unbiased for Δ, its variance shrinks by the share of
  // Var(y) that x explains (β²·9 of β²·9 + σe²), and the Welch interval on the adjusted sums
  // covers Δ at its nominal rate.
  const beta = 0.8;
  const sigmaE = 1.5;
  const effect = 0.25;
  const n = 400;
  const runs = 1500;

  it("θ is the true slope, the effect is unbiased, the variance drops as predicted, the CI covers", () => {
    const random = mulberry32(505);
    const thetaError: number[] = [];
    const adjustedError: number[] = [];
    const rawDiffs: number[] = [];
    const adjustedDiffs: number[] = [];
    const covered: number[] = [];
    for (let run = 0; run < runs; run++) {
      const control = covariateArm(random, n, beta, sigmaE, 0);
      const treatment = covariateArm(random, n, beta, sigmaE, effect);
      const r = cupedAdjust([control, treatment]);
      thetaError.push(r.theta - beta);
      const diff = mean(r.adjusted[1]!) - mean(r.adjusted[0]!);
      adjustedError.push(diff - effect);
      adjustedDiffs.push(diff);
      rawDiffs.push(mean(treatment) - mean(control));
      const { ci } = welchTTest(r.adjusted[0]!, r.adjusted[1]!, 0.05);
      covered.push(ci[0] <= effect && effect <= ci[1] ? 1 : 0);
    }
    expectAverage(thetaError, 0, "θ − β");
    // and each θ is close, not only their average: its standard error is ~σe / (3 √(2n)) ≈ 0.018
    expect(Math.max(...thetaError.map(Math.abs))).toBeLessThan(0.1);
    expectAverage(adjustedError, 0, "adjusted difference − Δ");
    // Var of the difference of means: 2(β²·9 + σe²)/n raw, 2σe²/n adjusted (to O(1/n)).
    const variance = (xs: number[]) => {
      const m = xs.reduce((a, v) => a + v, 0) / xs.length;
      return xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1);
    };
    const rawTruth = (2 * (beta * beta * 9 + sigmaE * sigmaE)) / n;
    const adjustedTruth = (2 * sigmaE * sigmaE) / n;
    // a sample variance of `runs` normal values has relative s.e. √(2 / (runs − 1)) ≈ 3.7 %
    const relSe = Math.sqrt(2 / (runs - 1));
    expect(Math.abs(variance(rawDiffs) / rawTruth - 1)).toBeLessThan(Z * relSe);
    expect(Math.abs(variance(adjustedDiffs) / adjustedTruth - 1)).toBeLessThan(Z * relSe);
    expectAverage(covered, 0.95, "95 % Welch interval coverage on CUPED-adjusted sums");
  });
});
