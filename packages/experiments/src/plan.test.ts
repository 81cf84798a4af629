import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseExperimentDefinition } from "./definition.ts";
import { planExperiment } from "./plan.ts";
import { sampleDefinition } from "./test-definitions.ts";

/** Users per variant solved with statsmodels' NormalIndPower (scripts/stats-reference/generate.py). */
function statsmodelsSampleSize(name: string): number {
  const file = new URL("../test/fixtures/power.json", import.meta.url);
  const fixture = JSON.parse(readFileSync(file, "utf8")) as {
    cases: { name: string; expected: { nPerVariantExact: number } }[];
  };
  const found = fixture.cases.find((c) => c.name === name);
  if (!found) throw new Error(`power.json has no case ${name}`);
  return found.expected.nPerVariantExact;
}

describe("planExperiment", () => {
  it("turns the calculator's users per variant into days of traffic for this definition", () => {
    const def = parseExperimentDefinition(
      sampleDefinition({
        rangeStart: 0,
        rangeEnd: 0.5,
        trafficAllocation: 0.8,
        variants: [
          { name: "control", weight: 80, strategy: "popularity" },
          { name: "ranker-v2", weight: 20, modelVersionId: 7 },
        ],
      }),
    );
    const plan = planExperiment(def, { baselineMean: 0.1, relativeMde: 0.2, dailyUsers: 10_000 });
    // statsmodels: 3838.09 users per variant for 10 % → 12 % at α = 0.05, power 0.8
    const exact = statsmodelsSampleSize("proportion base=0.1 mde=0.2 alpha=0.05 power=0.8");
    expect(Math.abs(plan.sampleSize.exact - exact)).toBeLessThan(1e-6 * exact);
    expect(plan.sampleSize.perVariant).toBe(3839);
    expect(Math.ceil(exact)).toBe(3839);
    // the 20 % variant needs 3,839 users: 5 × 3,839 = 19,195 in total; 10,000 × 0.5 × 0.8 = 4,000 enter per day
    expect(plan.totalUsers).toBe(19_195);
    expect(plan.dailyExperimentUsers).toBeCloseTo(4000, 9);
    expect(plan.days).toBe(5);
  });

  it("needs a variance for a mean metric", () => {
    const def = parseExperimentDefinition(sampleDefinition({ primaryMetric: "mean_rating" }));
    expect(() =>
      planExperiment(def, { baselineMean: 3.5, relativeMde: 0.02, dailyUsers: 1000 }),
    ).toThrow(/baselineVariance/);
    const plan = planExperiment(def, {
      baselineMean: 3.5,
      baselineVariance: 1.44,
      relativeMde: 0.02,
      dailyUsers: 1000,
    });
    const exact = statsmodelsSampleSize("mean base=3.5 mde=0.02 alpha=0.05 power=0.8");
    expect(Math.abs(plan.sampleSize.exact - exact)).toBeLessThan(1e-6 * exact);
    expect(plan.sampleSize.perVariant).toBe(Math.ceil(exact));
    // 50/50, the whole namespace and full allocation: 2 × 4,614 users at 1,000 a day
    expect(plan).toMatchObject({ totalUsers: 9_228, dailyExperimentUsers: 1000, days: 10 });
  });
});
