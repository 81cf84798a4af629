import { describe, expect, it } from "vitest";
import { parseExperimentDefinition } from "./definition.ts";
import { planExperiment } from "./plan.ts";
import { sampleSizePerVariant } from "./stats/power.ts";
import { sampleDefinition } from "./test-definitions.ts";

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
    const perVariant = sampleSizePerVariant(0.2, {
      kind: "proportion",
      baselineMean: 0.1,
    }).perVariant;
    expect(plan.sampleSize.perVariant).toBe(perVariant);
    // the 20 % variant needs perVariant users: 5 × perVariant in total, 10,000 × 0.5 × 0.8 = 4,000 enter per day
    expect(plan.totalUsers).toBe(Math.ceil(perVariant / 0.2));
    expect(plan.dailyExperimentUsers).toBeCloseTo(4000, 9);
    expect(plan.days).toBe(Math.ceil(plan.totalUsers / 4000));
  });

  it("needs a variance for a mean metric", () => {
    const def = parseExperimentDefinition(sampleDefinition({ primaryMetric: "mean_rating" }));
    expect(() =>
      planExperiment(def, { baselineMean: 3.5, relativeMde: 0.02, dailyUsers: 1000 }),
    ).toThrow(/baselineVariance/);
    expect(
      planExperiment(def, {
        baselineMean: 3.5,
        baselineVariance: 1.44,
        relativeMde: 0.02,
        dailyUsers: 1000,
      }).sampleSize.perVariant,
    ).toBeGreaterThan(1000);
  });
});
