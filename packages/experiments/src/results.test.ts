import { describe, expect, it } from "vitest";
import { expectClose, loadFixture } from "../test/reference.ts";
import { parseExperimentDefinition } from "./definition.ts";
import { ExperimentValidationError } from "./errors.ts";
import { computeResults } from "./results.ts";
import { proportionStats } from "./stats/sufficient-stats.ts";
import { sampleDefinition } from "./test-definitions.ts";

const def = parseExperimentDefinition(sampleDefinition({ status: "running", minSampleSize: 5000 }));

/** users, clicks, errors per variant */
function stats(control: [number, number, number], treatment: [number, number, number]) {
  const one = ([users, clicks, errors]: [number, number, number]) => ({
    users,
    metrics: {
      click_through: proportionStats(users, clicks),
      error_rate: proportionStats(users, errors),
    },
  });
  return { control: one(control), "ranker-v2": one(treatment) };
}

describe("computeResults", () => {
  it("reports a clear winner with every figure the dashboard renders", () => {
    const r = computeResults(def, stats([10_000, 1000, 50], [10_000, 1200, 52]));
    expect(r.outcome).toBe("winner");
    expect(r.winner).toBe("ranker-v2");
    expect(r.verdict).toMatch(
      /^ranker-v2 beats control on click-through rate: \+20\.0 % \(always-valid CI \+\d+\.\d % to \+\d+\.\d %\)\. Chance to beat control: 100\.0 %\.$/,
    );
    expect(r.srm.mismatch).toBe(false);
    expect(r.sampleSize).toEqual({ minPerVariant: 5000, smallestVariant: 10_000, reached: true });
    const [primary, guardrail] = r.metrics;
    expect(primary).toMatchObject({
      metric: "click_through",
      role: "primary",
      kind: "proportion",
      cuped: { applied: false, theta: null },
    });
    expect(guardrail).toMatchObject({
      metric: "error_rate",
      role: "guardrail",
      higherIsBetter: false,
    });
    const [control, treatment] = primary!.variants;
    expect(control).toMatchObject({
      variant: "control",
      isControl: true,
      n: 10_000,
      mean: 0.1,
      comparison: null,
    });
    const c = treatment!.comparison!;
    expect(treatment!.mean).toBeCloseTo(0.12, 12);
    expect(c.uplift).toBeCloseTo(0.2, 12);
    expect(c.absoluteDifference).toBeCloseTo(0.02, 12);
    expect(c.ci[0]).toBeGreaterThan(0);
    // the always-valid interval is wider than the fixed-horizon one and contains it
    expect(c.sequentialCi[0]).toBeLessThan(c.ci[0]);
    expect(c.sequentialCi[1]).toBeGreaterThan(c.ci[1]);
    expect(c.sequentialCi[0]).toBeGreaterThan(0);
    expect(c.chanceToWin).toBeGreaterThan(0.999);
    expect(c.risk).toBeLessThan(1e-6);
    expect(c.credibleInterval[0]).toBeGreaterThan(0);
    expect(c).toMatchObject({ significant: true, outcome: "better" });
    // 0/1 metric with whole counts: chance to win and risk come from the exact Beta-Binomial model
    expect(primary!.bayesianModel).toBe("beta-binomial");
    // … by quadrature in scipy (test/fixtures/composition.json); risk relative to the control's 0.1
    const exact = loadFixture<{ name: string; expected: { chanceToWin: number; risk: number } }>(
      "composition",
    ).find((k) => k.name === "beta-binomial: clicks 1000 vs 1200 of 10000")!.expected;
    expectClose(c.chanceToWin, exact.chanceToWin, "chance to win");
    expectClose(c.risk, exact.risk / 0.1, "relative risk");
  });

  it("switches to the normal Bayesian model when the exact sum would be too long", () => {
    const r = computeResults(def, stats([300_000, 150_000, 300], [300_000, 151_000, 310]));
    expect(r.metrics[0]!.bayesianModel).toBe("normal");
    expect(r.metrics[0]!.variants[1]!.comparison!.chanceToWin).toBeGreaterThan(0.99);
  });

  it("adjusts p-values across the whole family of treatment × metric comparisons", () => {
    // The values themselves are checked against statsmodels' multipletests in
    // test/results-reference.test.ts ("fixed: both metrics moved, both adjusted over the family").
    const r = computeResults(def, stats([10_000, 1000, 50], [10_000, 1060, 65]), { mode: "fixed" });
    const comparisons = r.metrics.map((m) => m.variants[1]!.comparison!);
    // two comparisons: Holm doubles the smaller p-value, and the larger one keeps its own
    const [small, large] = [...comparisons].sort((a, b) => a.pValue - b.pValue);
    expect(small!.adjustedPValue.holm).toBeCloseTo(Math.min(1, 2 * small!.pValue), 15);
    expect(large!.adjustedPValue.holm).toBeCloseTo(Math.max(large!.pValue, 2 * small!.pValue), 15);
    comparisons.forEach((c) => {
      expect(c.adjustedPValue.holm).toBeGreaterThanOrEqual(c.pValue);
      expect(c.adjustedPValue.benjaminiHochberg).toBeGreaterThanOrEqual(c.pValue);
      expect(c.adjustedPValue.benjaminiHochberg).toBeLessThanOrEqual(c.adjustedPValue.holm);
    });
  });

  it("blocks a winner on the primary metric when a guardrail gets worse", () => {
    const r = computeResults(def, stats([10_000, 1000, 50], [10_000, 1200, 120]));
    expect(r.metrics[0]!.variants[1]!.comparison!.outcome).toBe("better");
    expect(r.metrics[1]!.variants[1]!.comparison!.outcome).toBe("worse");
    expect(r.outcome).toBe("guardrail_violated");
    expect(r.verdict).toMatch(
      /^Guardrail violated: ranker-v2 on error rate \(\+140\.0 %\)\. Do not ship\.$/,
    );
    // a rise in error rate is a loss: the chance the treatment is better there is ~0
    expect(r.metrics[1]!.variants[1]!.comparison!.chanceToWin).toBeLessThan(0.001);
  });

  it("says inconclusive when the sequential interval still straddles zero", () => {
    const r = computeResults(def, stats([2000, 200, 10], [2000, 215, 10]));
    expect(r.outcome).toBe("inconclusive");
    expect(r.winner).toBeNull();
    expect(r.verdict).toContain(
      "No detectable difference between ranker-v2 and control on click-through rate yet",
    );
  });

  it("in fixed mode waits for the planned sample before judging", () => {
    const r = computeResults(def, stats([1000, 100, 5], [1000, 160, 5]), { mode: "fixed" });
    expect(r.outcome).toBe("waiting_for_sample");
    expect(r.verdict).toContain("1000 of the 5000 users planned");
  });

  it("puts sample ratio mismatch ahead of everything else", () => {
    const r = computeResults(def, stats([10_400, 1000, 50], [9_600, 1200, 52]));
    expect(r.srm.mismatch).toBe(true);
    expect(r.outcome).toBe("srm");
    expect(r.winner).toBeNull();
  });

  it("reports missing data per variant instead of failing", () => {
    const r = computeResults(def, {
      control: { users: 500, metrics: { click_through: proportionStats(500, 40) } },
      "ranker-v2": { users: 1, metrics: { click_through: proportionStats(1, 1) } },
    });
    expect(r.outcome).toBe("srm"); // 500 vs 1 is itself a mismatch
    const noUsers = computeResults(def, { control: { users: 0, metrics: {} } });
    expect(noUsers.outcome).toBe("insufficient_data");
    expect(noUsers.metrics[0]!.variants[1]!.verdict).toBe(
      "Not enough data to compare ranker-v2 with control on click-through rate (no data yet).",
    );
  });

  it("applies CUPED when pre-period sums are present and narrows the interval", () => {
    // y = x + noise: the covariate explains most of the variance
    const make = (n: number, shift: number) => {
      let sum = 0,
        sumSquares = 0,
        preSum = 0,
        preSumSquares = 0,
        crossSum = 0;
      for (let i = 0; i < n; i++) {
        const x = 3 + Math.sin(i * 12.9898) * 1.5;
        const y = x + shift + Math.cos(i * 78.233) * 0.3;
        sum += y;
        sumSquares += y * y;
        preSum += x;
        preSumSquares += x * x;
        crossSum += x * y;
      }
      return { n, sum, sumSquares, preSum, preSumSquares, crossSum };
    };
    const ratingDef = parseExperimentDefinition(
      sampleDefinition({ status: "running", primaryMetric: "mean_rating", guardrailMetrics: [] }),
    );
    const input = {
      control: { users: 3000, metrics: { mean_rating: make(3000, 0) } },
      "ranker-v2": { users: 3000, metrics: { mean_rating: make(3000, 0.05) } },
    };
    const withCuped = computeResults(ratingDef, input);
    const without = computeResults(ratingDef, input, { cuped: false });
    const width = (r: typeof withCuped) => {
      const [lo, hi] = r.metrics[0]!.variants[1]!.comparison!.ci;
      return hi - lo;
    };
    expect(withCuped.metrics[0]!.cuped.applied).toBe(true);
    expect(withCuped.metrics[0]!.bayesianModel).toBe("normal");
    expect(withCuped.metrics[0]!.cuped.theta).toBeGreaterThan(0.9);
    expect(width(withCuped)).toBeLessThan(width(without) / 3);
    expect(withCuped.outcome).toBe("winner");
    expect(without.outcome).toBe("inconclusive");
  });

  it("rejects malformed statistics naming the field, and unknown variants", () => {
    const bad = (input: unknown) => {
      try {
        computeResults(def, input);
      } catch (error) {
        expect(error).toBeInstanceOf(ExperimentValidationError);
        return (error as ExperimentValidationError).issues.map((i) => i.field);
      }
      throw new Error("expected rejection");
    };
    expect(bad({ control: { users: -1, metrics: {} } })).toEqual(["control.users"]);
    expect(
      bad({ control: { users: 3, metrics: { click_through: { n: 3, sum: "x", sumSquares: 1 } } } }),
    ).toEqual(["control.metrics.click_through.sum"]);
    expect(bad({ ghost: { users: 3, metrics: {} } })).toEqual(["ghost"]);
    expect(
      bad({ control: { users: 3, metrics: { revenue: { n: 3, sum: 1, sumSquares: 1 } } } })[0],
    ).toMatch(/^control\.metrics/);
  });

  it("refuses an experiment that cannot have results", () => {
    expect(() => computeResults(parseExperimentDefinition({ key: "bare" }), {})).toThrow(
      ExperimentValidationError,
    );
  });
});
