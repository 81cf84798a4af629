import type { ExperimentDefinitionInput } from "./definition.ts";

/** A valid running-ready definition for tests; override what a test is about. */
export function sampleDefinition(
  overrides: Partial<ExperimentDefinitionInput> = {},
): ExperimentDefinitionInput {
  return {
    key: "home-ranker",
    hypothesis: "The new ranker raises click-through",
    owner: "pm@example.com",
    primaryMetric: "click_through",
    guardrailMetrics: ["error_rate"],
    variants: [
      { name: "control", weight: 50, strategy: "popularity" },
      { name: "ranker-v2", weight: 50, modelVersionId: 7 },
    ],
    ...overrides,
  };
}
