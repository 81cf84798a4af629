import { describe, expect, it } from "vitest";
import {
  bayesianComparison,
  benjaminiHochbergAdjust,
  betaBinomialComparison,
  chiSquareSurvival,
  cupedAdjust,
  erfc,
  logBeta,
  logGamma,
  normalPdf,
  normalSurvival,
  regularizedGammaQ,
  regularizedIncompleteBeta,
  studentTPdf,
  studentTTwoSidedP,
  holmAdjust,
  mean,
  minimumDetectableEffect,
  normalCdf,
  normalQuantile,
  powerAt,
  relativeUplift,
  sampleRatioMismatch,
  sampleSizePerVariant,
  sampleVariance,
  sequentialHalfWidth,
  sequentialInterval,
  studentTCdf,
  studentTQuantile,
  welchTTest,
  type CovariateStats,
  type MetricKind,
  type SufficientStats,
} from "../src/index.ts";
import { expectAllClose, expectClose, loadFixture } from "./reference.ts";

// Expected values come from scripts/stats-reference/generate.py (scipy / statsmodels).

interface PairCase<E> {
  name: string;
  alpha: number;
  higherIsBetter?: boolean;
  control: SufficientStats;
  treatment: SufficientStats;
  expected: E;
}

const distributionFns: Record<string, (...args: number[]) => number> = {
  erfc: (x) => erfc(x!),
  normalCdf: (z) => normalCdf(z!),
  normalSurvival: (z) => normalSurvival(z!),
  normalPdf: (z) => normalPdf(z!),
  normalQuantile: (p) => normalQuantile(p!),
  logGamma: (x) => logGamma(x!),
  logBeta: (a, b) => logBeta(a!, b!),
  regularizedIncompleteBeta: (x, a, b) => regularizedIncompleteBeta(x!, a!, b!),
  studentTCdf: (t, df) => studentTCdf(t!, df!),
  studentTTwoSidedP: (t, df) => studentTTwoSidedP(t!, df!),
  studentTPdf: (t, df) => studentTPdf(t!, df!),
  studentTQuantile: (p, df) => studentTQuantile(p!, df!),
  regularizedGammaQ: (a, x) => regularizedGammaQ(a!, x!),
  chiSquareSurvival: (x, k) => chiSquareSurvival(x!, k!),
};

/** The distribution functions claim ~1e-14; they are held to 1e-10 relative. */
const DISTRIBUTION_TOLERANCE = 1e-10;

describe("distributions match scipy", () => {
  it.each(loadFixture<{ fn: string; args: number[]; expected: number }>("distributions"))(
    "$fn($args)",
    (c) => {
      const fn = distributionFns[c.fn];
      expect(fn, `unknown function ${c.fn}`).toBeDefined();
      expectClose(fn!(...c.args), c.expected, c.fn, DISTRIBUTION_TOLERANCE);
    },
  );
});

describe("Welch t-test matches scipy.stats.ttest_ind(equal_var=False) on the raw data", () => {
  type E = {
    difference: number;
    standardError: number;
    t: number;
    df: number;
    pValue: number;
    ci: [number, number];
  };
  it.each(loadFixture<PairCase<E>>("welch"))("$name", (c) => {
    const r = welchTTest(c.control, c.treatment, c.alpha);
    expectClose(r.difference, c.expected.difference, "difference");
    expectClose(r.standardError, c.expected.standardError, "standardError");
    expectClose(r.t, c.expected.t, "t");
    expectClose(r.df, c.expected.df, "df");
    expectClose(r.pValue, c.expected.pValue, "pValue");
    expectAllClose(r.ci, c.expected.ci, "ci");
  });
});

describe("relative uplift with delta-method interval matches statsmodels NonlinearDeltaCov on the raw data", () => {
  type E = { uplift: number; standardError: number; pValue: number; ci: [number, number] };
  it.each(loadFixture<PairCase<E>>("uplift"))("$name", (c) => {
    const r = relativeUplift(c.control, c.treatment, c.alpha);
    expectClose(r.uplift, c.expected.uplift, "uplift");
    expectClose(r.standardError, c.expected.standardError, "standardError");
    expectClose(r.pValue, c.expected.pValue, "pValue");
    expectAllClose(r.ci, c.expected.ci, "ci");
  });
});

describe("Bayesian chance to win and risk match numerical integrals of the posterior", () => {
  type E = {
    chanceToWin: number;
    risk: number;
    riskOfControl: number;
    credibleInterval: [number, number];
  };
  it.each(loadFixture<PairCase<E>>("bayesian"))("$name (higherIsBetter $higherIsBetter)", (c) => {
    const r = bayesianComparison(c.control, c.treatment, {
      alpha: c.alpha,
      higherIsBetter: c.higherIsBetter,
    });
    expectClose(r.chanceToWin, c.expected.chanceToWin, "chanceToWin");
    expectClose(r.risk, c.expected.risk, "risk");
    expectClose(r.riskOfControl, c.expected.riskOfControl, "riskOfControl");
    expectAllClose(r.credibleInterval, c.expected.credibleInterval, "credibleInterval");
  });
});

describe("Beta-Binomial chance to win and risk match quadrature over scipy's Beta distributions", () => {
  type C = {
    name: string;
    higherIsBetter: boolean;
    control: { users: number; conversions: number };
    treatment: { users: number; conversions: number };
    expected: { chanceToWin: number; risk: number; riskOfControl: number };
  };
  it.each(loadFixture<C>("beta-binomial"))("$name", (c) => {
    const r = betaBinomialComparison(c.control, c.treatment, { higherIsBetter: c.higherIsBetter });
    expectClose(r.chanceToWin, c.expected.chanceToWin, "chanceToWin");
    expectClose(r.risk, c.expected.risk, "risk");
    expectClose(r.riskOfControl, c.expected.riskOfControl, "riskOfControl");
  });
});

describe("sequential interval matches the numerically solved normal-mixture boundary", () => {
  type C = {
    name: string;
    input: { estimate: number; variance: number; n: number; tuningN: number; alpha: number };
    expected: { halfWidth: number; interval: [number, number] };
  };
  it.each(loadFixture<C>("sequential"))("$name", (c) => {
    expectClose(sequentialHalfWidth(c.input), c.expected.halfWidth, "halfWidth");
    expectAllClose(sequentialInterval(c.input), c.expected.interval, "interval");
  });
});

describe("SRM χ² matches scipy.stats.chisquare", () => {
  type C = {
    name: string;
    observed: number[];
    weights: number[];
    expected: { chiSquare: number; pValue: number; mismatch: boolean };
  };
  it.each(loadFixture<C>("srm"))("$name", (c) => {
    const r = sampleRatioMismatch(c.observed, c.weights);
    expectClose(r.chiSquare, c.expected.chiSquare, "chiSquare");
    expectClose(r.pValue, c.expected.pValue, "pValue");
    expect(r.mismatch).toBe(c.expected.mismatch);
  });
});

describe("Holm and Benjamini–Hochberg match statsmodels multipletests", () => {
  type C = {
    name: string;
    pValues: number[];
    expected: { holm: number[]; benjaminiHochberg: number[] };
  };
  it.each(loadFixture<C>("multiple-comparisons"))("$name", (c) => {
    expectAllClose(holmAdjust(c.pValues), c.expected.holm, "holm");
    expectAllClose(benjaminiHochbergAdjust(c.pValues), c.expected.benjaminiHochberg, "bh");
  });
});

describe("CUPED from sufficient statistics matches statsmodels OLS θ and adjustment of the raw data", () => {
  type C = {
    name: string;
    variants: CovariateStats[];
    expected: {
      theta: number;
      means: number[];
      variances: number[];
      unadjustedVariances: number[];
      pValueFirstVsControl: number;
    };
  };
  it.each(loadFixture<C>("cuped"))("$name", (c) => {
    const r = cupedAdjust(c.variants);
    expectClose(r.theta, c.expected.theta, "theta");
    expectAllClose(r.adjusted.map(mean), c.expected.means, "means");
    expectAllClose(r.adjusted.map(sampleVariance), c.expected.variances, "variances");
    expectAllClose(
      c.variants.map(sampleVariance),
      c.expected.unadjustedVariances,
      "unadjustedVariances",
    );
    expectClose(
      welchTTest(r.adjusted[0]!, r.adjusted[1]!).pValue,
      c.expected.pValueFirstVsControl,
      "pValue",
    );
    // the point of CUPED: never more variance than the raw metric
    r.adjusted.forEach((a, i) =>
      expect(sampleVariance(a)).toBeLessThanOrEqual(c.expected.unadjustedVariances[i]!),
    );
  });
});

describe("power calculator matches statsmodels NormalIndPower", () => {
  type C = {
    name: string;
    input: {
      kind: MetricKind;
      baselineMean: number;
      baselineVariance: number | null;
      relativeMde: number;
      alpha: number;
      power: number;
    };
    expected: {
      nPerVariantStatsmodels: number;
      nPerVariantExact: number;
      powerAt1000: number;
      mdeAt1000: number;
    };
  };
  it.each(loadFixture<C>("power"))("$name", (c) => {
    const { relativeMde, baselineVariance, ...rest } = c.input;
    const assumptions = { ...rest, baselineVariance: baselineVariance ?? undefined };
    const size = sampleSizePerVariant(relativeMde, assumptions);
    expectClose(size.exact, c.expected.nPerVariantExact, "n (brentq)");
    expectClose(size.exact, c.expected.nPerVariantStatsmodels, "n (statsmodels)");
    expect(size.perVariant).toBe(Math.ceil(c.expected.nPerVariantExact));
    expectClose(powerAt(1000, relativeMde, assumptions), c.expected.powerAt1000, "power at n=1000");
    expectClose(minimumDetectableEffect(1000, assumptions), c.expected.mdeAt1000, "MDE at n=1000");
  });
});
