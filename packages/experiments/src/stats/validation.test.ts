import { describe, expect, it } from "vitest";
import { expectClose, loadFixture } from "../../test/reference.ts";
import { parseExperimentDefinition } from "../definition.ts";
import { planExperiment } from "../plan.ts";
import { sampleDefinition } from "../test-definitions.ts";
import { bayesianComparison } from "./bayesian.ts";
import { betaBinomialComparison, probabilityBetaGreater } from "./beta-binomial.ts";
import { cupedAdjust } from "./cuped.ts";
import {
  erfc,
  normalCdf,
  normalQuantile,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
} from "./distributions.ts";
import { relativeUplift, welchTTest } from "./frequentist.ts";
import {
  estimateDuration,
  minimumDetectableEffect,
  powerAt,
  sampleSizePerVariant,
} from "./power.ts";
import { sequentialHalfWidth } from "./sequential.ts";
import { sampleRatioMismatch } from "./srm.ts";
import {
  hasCovariate,
  proportionStats,
  requireComparable,
  sampleVariance,
} from "./sufficient-stats.ts";

/**
 * The edges of the statistics: inputs they refuse (with the message a caller sees), degenerate
 * data (no variance at all), options that must reach the computation, and the planner's
 * arithmetic. The values in the normal range are checked against scipy/statsmodels in test/.
 */

/** One case of test/fixtures/composition.json (scripts/stats-reference/generate.py), by name. */
function reference<T>(name: string): T {
  const found = loadFixture<{ name: string; expected: T }>("composition").find(
    (c) => c.name === name,
  );
  if (!found) throw new Error(`composition.json has no case ${name}`);
  return found.expected;
}

describe("refusals name the problem", () => {
  it("sequential interval", () => {
    expect(() => sequentialHalfWidth({ variance: 1, n: 0, tuningN: 5 })).toThrow(
      "sequential interval needs n > 0 and tuningN > 0 (n=0, tuningN=5)",
    );
    expect(() => sequentialHalfWidth({ variance: 1, n: 5, tuningN: 0 })).toThrow(RangeError);
    // the smallest valid input: the mixture boundary solved numerically (composition.json)
    expectClose(
      sequentialHalfWidth({ variance: 1, n: 1, tuningN: 1 }),
      reference<{ halfWidth: number }>("sequential: variance 1, n 1, tuningN 1, alpha 0.05")
        .halfWidth,
      "half-width at n = tuningN = 1",
    );
    expect(sequentialHalfWidth({ variance: 1e-4, n: 100, tuningN: 50 })).toBe(
      sequentialHalfWidth({ variance: 1e-4, n: 100, tuningN: 50, alpha: 0.05 }),
    );
  });

  it("power and sample size", () => {
    const proportion = (baselineMean: number) => ({ kind: "proportion" as const, baselineMean });
    expect(() => sampleSizePerVariant(0.1, proportion(0))).toThrow(
      "proportions must lie in (0,1) (control 0, treatment 0)",
    );
    expect(() => sampleSizePerVariant(0.1, proportion(1))).toThrow(/control 1,/);
    expect(() => sampleSizePerVariant(0.1, proportion(-0.1))).toThrow(/proportions/);
    expect(() => sampleSizePerVariant(1, proportion(0.5))).toThrow(
      "proportions must lie in (0,1) (control 0.5, treatment 1)",
    );
    expect(() => sampleSizePerVariant(1.2, proportion(0.5))).toThrow(/treatment 1.1/);
    expect(() => sampleSizePerVariant(-1, proportion(0.5))).toThrow(/treatment 0\)/);
    // 0.5 → 0.995, just inside (0,1): statsmodels' NormalIndPower solved by brentq, 8.17 → 9
    const extreme = sampleSizePerVariant(0.99, proportion(0.5));
    const exact = reference<{ nPerVariantExact: number }>(
      "sample size: proportion 0.5 to 0.995, alpha 0.05, power 0.8",
    ).nPerVariantExact;
    expectClose(extreme.exact, exact, "n per variant");
    expect(extreme.perVariant).toBe(Math.ceil(exact));
    expect(() => sampleSizePerVariant(0.1, { kind: "mean", baselineMean: 3 })).toThrow(
      "baselineVariance > 0 is required for a mean metric",
    );
    expect(() =>
      sampleSizePerVariant(0.1, { kind: "mean", baselineMean: 3, baselineVariance: 0 }),
    ).toThrow(/baselineVariance/);
    for (const mde of [0, Infinity, NaN])
      expect(() => sampleSizePerVariant(mde, proportion(0.1))).toThrow(
        "relativeMde must be a non-zero number",
      );
    // a proportion cannot rise past 1: too few users can detect nothing at all
    expect(() => minimumDetectableEffect(3, proportion(0.5))).toThrow(
      "no detectable effect with 3 users per variant",
    );
    expect(() =>
      estimateDuration({ perVariant: 10, smallestWeight: 0.5, dailyUsers: 0, trafficShare: 1 }),
    ).toThrow("dailyUsers, trafficShare and smallestWeight must be positive");
    expect(() =>
      estimateDuration({ perVariant: 10, smallestWeight: 0.5, dailyUsers: 10, trafficShare: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      estimateDuration({ perVariant: 10, smallestWeight: 0, dailyUsers: 10, trafficShare: 1 }),
    ).toThrow(RangeError);
  });

  it("Beta-Binomial counts and prior", () => {
    const ok = { users: 10, conversions: 3 };
    expect(() => betaBinomialComparison({ users: 10, conversions: 1.5 }, ok)).toThrow(
      "control: conversions must be whole numbers between 0 and users (got 1.5 of 10)",
    );
    expect(() => betaBinomialComparison(ok, { users: 10.5, conversions: 3 })).toThrow(
      "treatment: conversions must be whole numbers between 0 and users (got 3 of 10.5)",
    );
    expect(() => betaBinomialComparison(ok, { users: 10, conversions: -1 })).toThrow(/treatment/);
    expect(() => betaBinomialComparison(ok, { users: 10, conversions: 11 })).toThrow(/treatment/);
    expect(betaBinomialComparison(ok, { users: 10, conversions: 10 }).chanceToWin).toBeGreaterThan(
      0.99,
    );
    expect(betaBinomialComparison(ok, { users: 10, conversions: 0 }).chanceToWin).toBeLessThan(0.1);
    expect(() => betaBinomialComparison(ok, ok, { prior: 0 })).toThrow(
      "prior must be a whole number ≥ 1 (got 0)",
    );
    expect(() => betaBinomialComparison(ok, ok, { prior: 1.5 })).toThrow(/prior/);
    // a stronger prior pulls both rates to 1/2: the small difference matters less
    const weak = betaBinomialComparison(ok, { users: 10, conversions: 6 });
    const strong = betaBinomialComparison(ok, { users: 10, conversions: 6 }, { prior: 5 });
    expect(strong.chanceToWin).toBeLessThan(weak.chanceToWin);
    expect(strong.chanceToWin).toBeGreaterThan(0.5);
  });

  it("too few users, one variant, and the SRM threshold", () => {
    expect(() => requireComparable(proportionStats(2, 1), proportionStats(1, 1))).toThrow(
      "need at least 2 users per variant (control n=2, treatment n=1)",
    );
    expect(() => requireComparable(proportionStats(2, 1), proportionStats(2, 1))).not.toThrow();
    expect(() => sampleRatioMismatch([5], [100])).toThrow(
      "SRM needs one weight per variant and at least 2 variants (got 1 counts, 1 weights)",
    );
    // χ² = 4, p = 0.046: a mismatch at a threshold of 0.05, not at the default 0.001
    const r = sampleRatioMismatch([5100, 4900], [50, 50], 0.05);
    expect(r).toMatchObject({ df: 1, expected: [5000, 5000], mismatch: true });
    expect(sampleRatioMismatch([5100, 4900], [50, 50]).mismatch).toBe(false);
  });

  it("planning needs a primary metric and two variants, and counts only its namespace slice", () => {
    const message = "planning needs a primary metric and at least 2 variants";
    const input = { baselineMean: 0.1, relativeMde: 0.2, dailyUsers: 10_000 };
    expect(() =>
      planExperiment(
        parseExperimentDefinition(sampleDefinition({ primaryMetric: undefined })),
        input,
      ),
    ).toThrow(message);
    expect(() =>
      planExperiment(
        parseExperimentDefinition(
          sampleDefinition({
            variants: [{ name: "control", weight: 100, strategy: "popularity" }],
          }),
        ),
        input,
      ),
    ).toThrow(message);
    const slice = planExperiment(
      parseExperimentDefinition(sampleDefinition({ rangeStart: 0.2, rangeEnd: 0.7 })),
      input,
    );
    expect(slice.dailyExperimentUsers).toBeCloseTo(5000, 9);
  });
});

describe("degenerate data", () => {
  it("the normal Bayesian model with no variance is certain, either way", () => {
    const allClick = proportionStats(10, 10);
    const noClick = proportionStats(10, 0);
    expect(bayesianComparison(allClick, allClick)).toEqual({
      chanceToWin: 0.5,
      risk: 0,
      riskOfControl: 0,
      credibleInterval: [0, 0],
    });
    expect(bayesianComparison(allClick, noClick)).toMatchObject({
      chanceToWin: 0,
      risk: 1,
      riskOfControl: 0,
    });
    expect(bayesianComparison(noClick, allClick)).toMatchObject({
      chanceToWin: 1,
      risk: 0,
      riskOfControl: 1,
    });
    expect(bayesianComparison(noClick, allClick, { higherIsBetter: false })).toMatchObject({
      chanceToWin: 0,
      risk: 1,
    });
  });

  it("the α of the credible interval is the one given", () => {
    const c = proportionStats(1000, 100);
    const t = proportionStats(1000, 120);
    const [lo95, hi95] = bayesianComparison(c, t).credibleInterval;
    const [lo80, hi80] = bayesianComparison(c, t, { alpha: 0.2 }).credibleInterval;
    expect(hi80 - lo80).toBeCloseTo(((hi95 - lo95) * 1.2815515655446004) / 1.959963984540054, 12);
  });

  it("Welch and the uplift with constant variants: degrees of freedom, infinite t and z both ways, p = 0", () => {
    // (the uplift's p-value was NaN here: Φ(∞) went through a continued fraction giving ∞/∞)
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
    const half = { n: 100, sum: 50, sumSquares: 25 }; // every user exactly 0.5
    const all = proportionStats(100, 100);
    expect(welchTTest(all, all).df).toBe(198);
    expect(welchTTest(proportionStats(30, 30), all).df).toBe(128);
    expect(relativeUplift(half, all)).toMatchObject({ z: Infinity, pValue: 0, uplift: 1 });
    expect(relativeUplift(all, half)).toMatchObject({ z: -Infinity, pValue: 0, uplift: -0.5 });
    expect(relativeUplift(all, all)).toMatchObject({ z: 0, pValue: 1 });
  });

  it("CUPED with a constant covariate changes nothing (θ = 0)", () => {
    const v = (n: number, sum: number, sumSquares: number) => ({
      n,
      sum,
      sumSquares,
      preSum: 2 * n,
      preSumSquares: 4 * n,
      crossSum: 2 * sum,
    });
    const r = cupedAdjust([v(10, 30, 100), v(12, 40, 150)]);
    expect(r.theta).toBe(0);
    expect(r.preMean).toBe(2);
    expect(r.adjusted).toEqual([
      { n: 10, sum: 30, sumSquares: 100 },
      { n: 12, sum: 40, sumSquares: 150 },
    ]);
  });

  it("sample variance needs two users; covariate sums need all three", () => {
    expect(sampleVariance({ n: 1, sum: 1, sumSquares: 1 })).toBeNaN();
    expect(sampleVariance({ n: 2, sum: 1, sumSquares: 1 })).toBe(0.5);
    const full = { n: 2, sum: 1, sumSquares: 1, preSum: 1, preSumSquares: 1, crossSum: 1 };
    expect(hasCovariate(full)).toBe(true);
    expect(hasCovariate({ n: 2, sum: 1, sumSquares: 1 })).toBe(false);
    for (const missing of ["preSum", "preSumSquares", "crossSum"] as const) {
      const partial: Record<string, number> = { ...full };
      delete partial[missing];
      expect(hasCovariate(partial as typeof full), missing).toBe(false);
    }
  });

  it("P(X > Y) and P(Y > X) add up to 1 whichever shape is smaller", () => {
    const x = { a: 30, b: 70 };
    const y = { a: 3, b: 9 };
    expect(probabilityBetaGreater(x, y) + probabilityBetaGreater(y, x)).toBeCloseTo(1, 12);
  });
});

describe("distribution functions at the edges of their domains", () => {
  it("quantiles: NaN outside [0, 1], ±∞ at 0 and 1, the normal one for infinite df", () => {
    for (const p of [-0.1, 1.5, NaN]) {
      expect(normalQuantile(p)).toBeNaN();
      expect(studentTQuantile(p, 5)).toBeNaN();
    }
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(studentTQuantile(0, 5)).toBe(-Infinity);
    expect(studentTQuantile(1, 5)).toBe(Infinity);
    expect(studentTQuantile(0.975, Infinity)).toBe(normalQuantile(0.975));
    expect(studentTCdf(1.5, Infinity)).toBe(normalCdf(1.5));
    expect(normalCdf(NaN)).toBeNaN();
  });

  it("the incomplete beta is exactly 0 and 1 at the ends; erfc is symmetric about 1", () => {
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(erfc(0)).toBe(1);
    expect(erfc(-0.5) + erfc(0.5)).toBeCloseTo(2, 15);
  });

  it("a proportion out of range on the control side alone is refused too", () => {
    expect(() => sampleSizePerVariant(-0.5, { kind: "proportion", baselineMean: 1 })).toThrow(
      "proportions must lie in (0,1) (control 1, treatment 0.5)",
    );
    expect(() => sampleSizePerVariant(-0.6, { kind: "proportion", baselineMean: 1.5 })).toThrow(
      /control 1.5/,
    );
    expect(() => sampleSizePerVariant(-2, { kind: "proportion", baselineMean: -0.1 })).toThrow(
      /control -0.1/,
    );
    // one user: no variance, whatever the sums say
    expect(sampleVariance({ n: 1, sum: 1, sumSquares: 2 })).toBeNaN();
  });
});

describe("the sample size is the root of the power curve for any α", () => {
  it.each([0.3, 0.2, 0.05, 0.001])("α = %s", (alpha) => {
    const a = { kind: "proportion" as const, baselineMean: 0.1, alpha, power: 0.8 };
    const { exact, perVariant } = sampleSizePerVariant(0.2, a);
    expect(powerAt(exact, 0.2, a)).toBeCloseTo(0.8, 9);
    expect(perVariant).toBe(Math.ceil(exact));
    const mde = minimumDetectableEffect(perVariant, a);
    expect(powerAt(perVariant, mde, a)).toBeCloseTo(0.8, 9);
  });
});
