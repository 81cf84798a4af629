import { describe, expect, it } from "vitest";
import { parseExperimentDefinition, type ExperimentDefinitionInput } from "./definition.ts";
import { ExperimentValidationError } from "./errors.ts";
import { computeResults } from "./results.ts";
import { expectAllClose, expectClose, loadFixture } from "../test/reference.ts";
import { proportionStats, type SufficientStats } from "./stats/sufficient-stats.ts";
import { sampleDefinition } from "./test-definitions.ts";
import { comparisonVerdict, formatInterval, formatP, formatPercent } from "./verdict.ts";

/**
 * What the results page is built from, piece by piece: which model and interval each comparison
 * uses, the sentences it shows, and the experiment-level call for several treatments. The figures
 * at settings other than the defaults (α, the tuning size, lower-is-better) are held to the
 * `composition` fixture of scripts/stats-reference/generate.py (scipy, statsmodels' delta method,
 * quadrature and the numerically solved mixture boundary), never to this package's own functions.
 */

/** One case of test/fixtures/composition.json, by name. */
function composition<T>(name: string): T {
  const found = loadFixture<{ name: string; expected: T }>("composition").find(
    (c) => c.name === name,
  );
  if (!found) throw new Error(`composition.json has no case ${name}`);
  return found.expected;
}

const def = (overrides: Partial<ExperimentDefinitionInput> = {}) =>
  parseExperimentDefinition(sampleDefinition({ status: "running", ...overrides }));

const three = def({
  guardrailMetrics: ["error_rate", "watch_rate"],
  variants: [
    { name: "control", weight: 34, strategy: "popularity", isControl: true },
    { name: "b", weight: 33, modelVersionId: 1 },
    { name: "c", weight: 33, modelVersionId: 2 },
  ],
});

type Counts = { users: number; click?: number; errors?: number; watch?: number };
function input(variants: Record<string, Counts>) {
  return Object.fromEntries(
    Object.entries(variants).map(([name, v]) => [
      name,
      {
        users: v.users,
        metrics: {
          ...(v.click === undefined ? {} : { click_through: proportionStats(v.users, v.click) }),
          ...(v.errors === undefined ? {} : { error_rate: proportionStats(v.users, v.errors) }),
          ...(v.watch === undefined ? {} : { watch_rate: proportionStats(v.users, v.watch) }),
        },
      },
    ]),
  );
}

function refusal(run: () => unknown): { field: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentValidationError);
    return (error as ExperimentValidationError).issues;
  }
  throw new Error("expected a refusal");
}

describe("verdict sentences", () => {
  it("formats percentages, intervals and p-values for people", () => {
    expect(formatPercent(0.123)).toBe("+12.3 %");
    expect(formatPercent(0)).toBe("0.0 %");
    expect(formatPercent(-0.05)).toBe("-5.0 %");
    expect(formatPercent(0.12345, 2)).toBe("+12.35 %");
    expect(formatInterval([-0.01, 0.02])).toBe("95 % CI -1.0 % to +2.0 %");
    expect(formatInterval([0.01, 0.02], "always-valid CI")).toBe(
      "always-valid CI +1.0 % to +2.0 %",
    );
    expect(formatP(0.00005)).toBe("p < 0.0001");
    expect(formatP(0.0001)).toBe("p = 0.00010");
    expect(formatP(0.005)).toBe("p = 0.0050");
    expect(formatP(0.01)).toBe("p = 0.010");
    expect(formatP(0.2346)).toBe("p = 0.235");
  });

  it("says what each outcome means", () => {
    const base = { variant: "b", control: "a", metricLabel: "click-through rate" };
    const numbers = { uplift: 0.1, interval: [0.02, 0.18] as [number, number] };
    expect(comparisonVerdict({ ...base, outcome: "better", ...numbers })).toBe(
      "b beats a on click-through rate: +10.0 % (95 % CI +2.0 % to +18.0 %).",
    );
    expect(
      comparisonVerdict({
        ...base,
        outcome: "worse",
        ...numbers,
        intervalLabel: "always-valid CI",
      }),
    ).toBe(
      "b does worse than a on click-through rate: +10.0 % (always-valid CI +2.0 % to +18.0 %).",
    );
    expect(comparisonVerdict({ ...base, outcome: "no_difference", ...numbers })).toBe(
      "No detectable difference between b and a on click-through rate yet: +10.0 % (95 % CI +2.0 % to +18.0 %).",
    );
    expect(comparisonVerdict({ ...base, outcome: "no_data", ...numbers, reason: "why" })).toBe(
      "Not enough data to compare b with a on click-through rate (why).",
    );
    expect(comparisonVerdict({ ...base, outcome: "no_data" })).toBe(
      "Not enough data to compare b with a on click-through rate.",
    );
    // a decided outcome without its numbers cannot be stated: it falls back to "not enough data"
    expect(comparisonVerdict({ ...base, outcome: "better", uplift: 0.1 })).toBe(
      "Not enough data to compare b with a on click-through rate.",
    );
    expect(comparisonVerdict({ ...base, outcome: "better", interval: [0, 1] })).toBe(
      "Not enough data to compare b with a on click-through rate.",
    );
  });
});

describe("computeResults: refusals", () => {
  it("names the missing variants or primary metric, and unknown variants", () => {
    const message = "results need at least 2 variants and a primary metric";
    expect(
      refusal(() =>
        computeResults(
          parseExperimentDefinition(
            sampleDefinition({
              variants: [{ name: "control", weight: 100, strategy: "popularity" }],
            }),
          ),
          {},
        ),
      ),
    ).toEqual([{ field: "variants", message }]);
    expect(
      refusal(() =>
        computeResults(
          parseExperimentDefinition(sampleDefinition({ primaryMetric: undefined })),
          {},
        ),
      ),
    ).toEqual([{ field: "primaryMetric", message }]);
    expect(refusal(() => computeResults(def(), { ghost: { users: 1, metrics: {} } }))).toEqual([
      { field: "ghost", message: '"ghost" is not a variant of home-ranker' },
    ]);
  });
});

describe("computeResults: what each comparison is built from", () => {
  it("the variants, SRM sentence and sample size, with the smallest variant's users", () => {
    const r = computeResults(
      def({ minSampleSize: 5000 }),
      input({ control: { users: 5000, click: 500 }, "ranker-v2": { users: 5100, click: 520 } }),
      { mode: "fixed" },
    );
    expect(r.variants).toEqual([
      { name: "control", isControl: true, users: 5000, expectedShare: 0.5 },
      { name: "ranker-v2", isControl: false, users: 5100, expectedShare: 0.5 },
    ]);
    expect(r.sampleSize).toEqual({ minPerVariant: 5000, smallestVariant: 5000, reached: true });
    expect(r.srm.verdict).toBe("Traffic split matches the configured weights (p = 0.320).");
    const skewed = computeResults(
      def(),
      input({
        control: { users: 10_400, click: 1000 },
        "ranker-v2": { users: 9_600, click: 1000 },
      }),
    );
    expect(skewed.verdict).toBe(
      "Sample ratio mismatch (p < 0.0001): observed 10400 / 9600 users against configured weights 50 / 50. Fix assignment or exposure logging before trusting these results.",
    );
    const waiting = computeResults(
      def({ minSampleSize: 5001 }),
      input({ control: { users: 5000, click: 500 }, "ranker-v2": { users: 5100, click: 520 } }),
      { mode: "fixed" },
    );
    expect(waiting.sampleSize.reached).toBe(false);
  });

  it("Welch, the uplift, the credible and always-valid intervals and the exact chance to win at the results' α match the references", () => {
    const e = composition<{
      welch: { t: number; df: number; pValue: number; ci: [number, number] };
      absoluteDifference: number;
      ci: [number, number];
      credibleInterval: [number, number];
      sequentialCi: [number, number];
      errorsChanceToWin: number;
    }>("alpha 0.1, minimum sample 3000: clicks 800 vs 880 of 8000, errors 40 vs 52");
    const r = computeResults(
      def({ minSampleSize: 3000 }),
      input({
        control: { users: 8000, click: 800, errors: 40 },
        "ranker-v2": { users: 8000, click: 880, errors: 52 },
      }),
      { alpha: 0.1 },
    );
    const got = r.metrics[0]!.variants[1]!.comparison!;
    // scipy's Welch test on the per-user 0/1 arrays, its interval at 90 %
    expectClose(got.welch.t, e.welch.t, "welch t");
    expectClose(got.welch.df, e.welch.df, "welch df");
    expectClose(got.welch.pValue, e.welch.pValue, "welch p");
    expectAllClose(got.welch.ci, e.welch.ci, "welch ci");
    expectClose(got.absoluteDifference, e.absoluteDifference, "difference");
    // statsmodels' delta method at α = 0.1; the normal posterior's 90 % interval
    expectAllClose(got.ci, e.ci, "uplift ci");
    expectAllClose(got.credibleInterval, e.credibleInterval, "credible interval");
    // the mixture boundary tuned at 2 × the minimum sample size, at α over the 2 comparisons
    expectAllClose(got.sequentialCi, e.sequentialCi, "sequential ci");
    // error rate, lower is better: the exact chance the treatment has fewer errors (≈ 0.106)
    const errors = r.metrics[1]!.variants[1]!.comparison!;
    expect(r.metrics[1]!.bayesianModel).toBe("beta-binomial");
    expectClose(errors.chanceToWin, e.errorsChanceToWin, "errors chance to win");
    expect(r.metrics[0]!.variants[1]!.verdict).toMatch(/always-valid CI/);
    const fixed = computeResults(
      def(),
      input({ control: { users: 8000, click: 800 }, "ranker-v2": { users: 8000, click: 880 } }),
      { alpha: 0.1, mode: "fixed" },
    );
    expect(fixed.metrics[0]!.variants[1]!.verdict).toMatch(/\(90 % CI [-+]\d/);
  });

  it("tunes the sequential interval at 10,000 users without a minimum sample, or as told", () => {
    const stats = input({
      control: { users: 8000, click: 800 },
      "ranker-v2": { users: 8000, click: 880 },
    });
    // The guardrail has no data: one comparison in the family, the interval at α = 0.05.
    const { sequentialCiByTuningN: expected } = composition<{
      sequentialCiByTuningN: Record<string, [number, number]>;
    }>("sequential tuning: clicks 800 vs 880 of 8000, one comparison, alpha 0.05");
    const at = (minSampleSize: number, sequentialTuningN?: number) =>
      computeResults(def({ minSampleSize }), stats, { sequentialTuningN }).metrics[0]!.variants[1]!
        .comparison!.sequentialCi;
    expectAllClose(at(0), expected["10000"]!, "no minimum sample: tuned at 10,000");
    expectAllClose(at(4000), expected["8000"]!, "minimum 4,000: tuned at 8,000");
    expectAllClose(at(4000, 50_000), expected["50000"]!, "tuned at 50,000 as told");
    // … and the tuning size matters: the three intervals differ.
    expect(new Set([at(0)[0], at(4000)[0], at(4000, 50_000)[0]]).size).toBe(3);
  });

  it("the lower-is-better normal model flips the chance to win", () => {
    // above 100,000 non-events the exact Beta-Binomial sum is skipped: the normal model answers
    const r = computeResults(
      def(),
      input({
        control: { users: 120_000, click: 12_000, errors: 600 },
        "ranker-v2": { users: 120_000, click: 12_000, errors: 500 },
      }),
    );
    const errors = r.metrics[1]!;
    expect(errors.bayesianModel).toBe("normal");
    // quadrature over the normal posterior of the difference: P(fewer errors) ≈ 0.9988
    const expected = composition<{ chanceToWin: number; risk: number }>(
      "normal model, lower is better: errors 600 vs 500 of 120000",
    );
    const got = errors.variants[1]!.comparison!;
    expectClose(got.chanceToWin, expected.chanceToWin, "chance to win");
    // risk is reported relative to the control's mean (600 / 120,000)
    expectClose(got.risk, expected.risk / (600 / 120_000), "relative risk");
    expect(expected.chanceToWin).toBeGreaterThan(0.99);
  });
});

describe("computeResults: which Bayesian model", () => {
  const model = (control: SufficientStats, treatment: SufficientStats, metric = "click_through") =>
    computeResults(def({ primaryMetric: metric as "click_through", guardrailMetrics: [] }), {
      control: { users: control.n, metrics: { [metric]: control } },
      "ranker-v2": { users: treatment.n, metrics: { [metric]: treatment } },
    }).metrics[0]!.bayesianModel;

  it("the exact Beta-Binomial for whole 0/1 counts up to 100,000 conversions, else normal", () => {
    expect(model(proportionStats(200_000, 100_000), proportionStats(200_000, 100_000))).toBe(
      "beta-binomial",
    );
    expect(model(proportionStats(200_000, 100_001), proportionStats(200_000, 100_000))).toBe(
      "normal",
    );
    // zero conversions and all users converting are still 0/1 counts
    expect(model(proportionStats(50, 0), proportionStats(50, 50))).toBe("beta-binomial");
    expect(model(proportionStats(50, 10), proportionStats(50, 51))).toBe("normal");
    expect(model(proportionStats(50, 10), { n: 50, sum: -1, sumSquares: 1 })).toBe("normal");
    expect(model(proportionStats(50, 10), { n: 50, sum: 10.5, sumSquares: 10.5 })).toBe("normal");
    expect(model(proportionStats(50, 10), { n: 50, sum: 10, sumSquares: 12 })).toBe("normal");
    // a mean metric is never Beta-Binomial, even with 0/1 values
    expect(model(proportionStats(50, 10), proportionStats(50, 20), "mean_rating")).toBe("normal");
  });

  it("lower-is-better metrics count the non-events against the limit", () => {
    const errorsOnly = (control: SufficientStats, treatment: SufficientStats) =>
      computeResults(def({ primaryMetric: "error_rate", guardrailMetrics: [] }), {
        control: { users: control.n, metrics: { error_rate: control } },
        "ranker-v2": { users: treatment.n, metrics: { error_rate: treatment } },
      }).metrics[0]!.bayesianModel;
    expect(errorsOnly(proportionStats(100_050, 50), proportionStats(100_050, 60))).toBe(
      "beta-binomial",
    );
    expect(errorsOnly(proportionStats(100_051, 50), proportionStats(100_050, 60))).toBe("normal");
  });
});

describe("computeResults: missing and partial data", () => {
  it("says why a comparison cannot be made", () => {
    const verdictOf = (control: Counts, treatment: Counts) =>
      computeResults(def({ guardrailMetrics: [] }), input({ control, "ranker-v2": treatment }))
        .metrics[0]!.variants[1]!.verdict;
    expect(verdictOf({ users: 10 }, { users: 10, click: 3 })).toBe(
      "Not enough data to compare ranker-v2 with control on click-through rate (no data yet).",
    );
    expect(verdictOf({ users: 1, click: 1 }, { users: 10, click: 3 })).toMatch(
      /\(fewer than 2 users in a variant\)\.$/,
    );
    expect(verdictOf({ users: 10, click: 3 }, { users: 1, click: 1 })).toMatch(
      /\(fewer than 2 users in a variant\)\.$/,
    );
    // a proportion needs 10 users with and 10 without the event in each variant
    expect(verdictOf({ users: 2, click: 1 }, { users: 2, click: 1 })).toBe(
      "Not enough data to compare ranker-v2 with control on click-through rate (fewer than 10 users " +
        "with and without the event in a variant (control 1 / 1, ranker-v2 1 / 1)).",
    );
    expect(verdictOf({ users: 20, click: 10 }, { users: 20, click: 10 })).toMatch(
      /^No detectable difference/,
    );
    for (const [control, treatment, counts] of [
      [{ users: 20, click: 9 }, { users: 20, click: 10 }, "control 9 / 11, ranker-v2 10 / 10"],
      [{ users: 19, click: 10 }, { users: 20, click: 10 }, "control 10 / 9, ranker-v2 10 / 10"],
      [{ users: 20, click: 10 }, { users: 20, click: 9 }, "control 10 / 10, ranker-v2 9 / 11"],
      [{ users: 20, click: 10 }, { users: 19, click: 10 }, "control 10 / 10, ranker-v2 10 / 9"],
    ] as const)
      expect(verdictOf(control, treatment)).toContain(`(${counts})`);
    // a mean needs 30 users in each variant
    const ratings = (n: number) => {
      const s = { n, sum: 0, sumSquares: 0 };
      for (let i = 0; i < n; i++) {
        const rating = 1 + (i % 5);
        s.sum += rating;
        s.sumSquares += rating * rating;
      }
      return s;
    };
    const ratingVerdict = (c: number, t: number) =>
      computeResults(def({ primaryMetric: "mean_rating", guardrailMetrics: [] }), {
        control: { users: c, metrics: { mean_rating: ratings(c) } },
        "ranker-v2": { users: t, metrics: { mean_rating: ratings(t) } },
      }).metrics[0]!.variants[1]!.verdict;
    expect(ratingVerdict(30, 30)).toMatch(/^No detectable difference/);
    expect(ratingVerdict(29, 30)).toBe(
      "Not enough data to compare ranker-v2 with control on mean rating (fewer than 30 users in a " +
        "variant (control 29, ranker-v2 30)).",
    );
    expect(ratingVerdict(30, 29)).toContain("(control 30, ranker-v2 29)");
    // 0 clicks of 40 against 10 of 40: a variance of 0 had read as certainty
    const silent = computeResults(
      def({ guardrailMetrics: [] }),
      input({ control: { users: 40, click: 10 }, "ranker-v2": { users: 40, click: 0 } }),
    );
    expect(silent.metrics[0]!.variants[1]!.comparison).toBeNull();
    expect(verdictOf({ users: 10, click: 0 }, { users: 10, click: 3 })).toBe(
      "Not enough data to compare ranker-v2 with control on click-through rate (control mean is 0).",
    );
    const r = computeResults(
      def({ guardrailMetrics: [] }),
      input({ control: { users: 10, click: 2 }, "ranker-v2": { users: 0, click: 0 } }),
    );
    expect(r.metrics[0]!.variants[0]!.verdict).toBe(
      "control is the control: the baseline every variant is compared with.",
    );
    expect(r.metrics[0]!.variants[1]).toMatchObject({ n: 0, mean: null, adjustedMean: null });
  });

  it("CUPED only when every variant has data and pre-period sums; adjusted means only then", () => {
    const covariate = (n: number, shift: number) => {
      const s = { n, sum: 0, sumSquares: 0, preSum: 0, preSumSquares: 0, crossSum: 0 };
      for (let i = 0; i < n; i++) {
        const x = 3 + Math.sin(i * 12.9898) * 1.5;
        const y = x + shift + Math.cos(i * 78.233) * 0.3;
        s.sum += y;
        s.sumSquares += y * y;
        s.preSum += x;
        s.preSumSquares += x * x;
        s.crossSum += x * y;
      }
      return s;
    };
    const rating = def({ primaryMetric: "mean_rating", guardrailMetrics: [] });
    const run = (control: object | undefined, treatment: object | undefined) =>
      computeResults(rating, {
        control: { users: 500, metrics: control ? { mean_rating: control } : {} },
        "ranker-v2": { users: 500, metrics: treatment ? { mean_rating: treatment } : {} },
      }).metrics[0]!;
    const both = run(covariate(500, 0), covariate(500, 0.05));
    expect(both.cuped.applied).toBe(true);
    expect(both.variants[1]!.adjustedMean).not.toBeNull();
    expect(both.variants[1]!.adjustedMean).not.toBe(both.variants[1]!.mean);
    const { preSum: _p, preSumSquares: _q, crossSum: _c, ...plain } = covariate(500, 0.05);
    const oneSided = run(covariate(500, 0), plain);
    expect(oneSided.cuped).toEqual({ applied: false, theta: null });
    expect(oneSided.variants[1]!.adjustedMean).toBeNull();
    expect(oneSided.variants[1]!.comparison).not.toBeNull();
    const missing = run(covariate(500, 0), undefined);
    expect(missing.cuped.applied).toBe(false);
    expect(missing.variants[1]!.comparison).toBeNull();
    const empty = run(covariate(500, 0), {
      n: 0,
      sum: 0,
      sumSquares: 0,
      preSum: 0,
      preSumSquares: 0,
      crossSum: 0,
    });
    expect(empty.cuped.applied).toBe(false);
    expect(empty.variants[1]!.mean).toBeNull();
  });
});

describe("computeResults: the experiment-level call with several treatments", () => {
  it("the treatment with the largest uplift wins, whatever the order", () => {
    for (const [b, c, winner] of [
      [900, 1000, "c"],
      [1000, 900, "b"],
    ] as const) {
      const r = computeResults(
        three,
        input({
          control: { users: 10_000, click: 700, errors: 50, watch: 3000 },
          b: { users: 10_000, click: b, errors: 50, watch: 3000 },
          c: { users: 10_000, click: c, errors: 50, watch: 3000 },
        }),
      );
      expect(r.outcome).toBe("winner");
      expect(r.winner).toBe(winner);
    }
  });

  it("one treatment without data makes the whole call wait for data", () => {
    const r = computeResults(
      three,
      input({
        control: { users: 10_000, click: 700, errors: 50, watch: 3000 },
        b: { users: 10_000, click: 1000, errors: 50, watch: 3000 },
        c: { users: 10_000 },
      }),
    );
    expect(r.srm.mismatch).toBe(false);
    expect(r).toMatchObject({
      outcome: "insufficient_data",
      winner: null,
      verdict: "Not enough data on click-through rate yet to compare every variant with control.",
    });
  });

  it("lists every guardrail violation; one worse treatment alone is not a loser", () => {
    const violated = computeResults(
      three,
      input({
        control: { users: 10_000, click: 700, errors: 50, watch: 3000 },
        b: { users: 10_000, click: 700, errors: 150, watch: 3000 },
        c: { users: 10_000, click: 700, errors: 50, watch: 2000 },
      }),
    );
    expect(violated.verdict).toBe(
      "Guardrail violated: b on error rate (+200.0 %), c on watch rate (-33.3 %). Do not ship.",
    );
    const mixed = computeResults(
      three,
      input({
        control: { users: 10_000, click: 1000, errors: 50, watch: 3000 },
        b: { users: 10_000, click: 700, errors: 50, watch: 3000 },
        c: { users: 10_000, click: 1000, errors: 50, watch: 3000 },
      }),
    );
    expect(mixed.outcome).toBe("inconclusive");
    expect(mixed.verdict).toBe(
      `No variant differs detectably from control on click-through rate yet. ${mixed.metrics[0]!.variants[1]!.verdict} ${mixed.metrics[0]!.variants[2]!.verdict}`,
    );
    const lost = computeResults(
      three,
      input({
        control: { users: 10_000, click: 1000, errors: 50, watch: 3000 },
        b: { users: 10_000, click: 700, errors: 50, watch: 3000 },
        c: { users: 10_000, click: 750, errors: 50, watch: 3000 },
      }),
    );
    expect(lost).toMatchObject({
      outcome: "loser",
      winner: null,
      verdict: "Every variant does worse than control on click-through rate; keep control.",
    });
  });

  it("in sequential mode a treatment significantly worse on the primary is worse", () => {
    const r = computeResults(
      def(),
      input({
        control: { users: 10_000, click: 1200, errors: 50 },
        "ranker-v2": { users: 10_000, click: 950, errors: 50 },
      }),
    );
    expect(r.metrics[0]!.variants[1]!.comparison).toMatchObject({
      significant: true,
      outcome: "worse",
    });
    expect(r.outcome).toBe("loser");
  });
});
