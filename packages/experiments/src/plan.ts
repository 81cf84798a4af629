import type { ExperimentDefinition } from "./definition.ts";
import { METRICS } from "./metrics.ts";
import {
  estimateDuration,
  sampleSizePerVariant,
  type DurationEstimate,
  type SampleSize,
} from "./stats/power.ts";

export interface ExperimentPlan extends DurationEstimate {
  sampleSize: SampleSize;
}

/**
 * Sample size and duration for a definition: the primary metric's kind, the smallest variant's
 * weight, and the share of traffic the namespace range and allocation let in.
 */
export function planExperiment(
  def: ExperimentDefinition,
  input: {
    baselineMean: number;
    baselineVariance?: number;
    relativeMde: number;
    dailyUsers: number;
    alpha?: number;
    power?: number;
  },
): ExperimentPlan {
  if (def.primaryMetric === undefined || def.variants.length < 2)
    throw new RangeError("planning needs a primary metric and at least 2 variants");
  const sampleSize = sampleSizePerVariant(input.relativeMde, {
    kind: METRICS[def.primaryMetric].kind,
    ...input,
  });
  const duration = estimateDuration({
    perVariant: sampleSize.perVariant,
    smallestWeight: Math.min(...def.variants.map((v) => v.weight)) / 100,
    dailyUsers: input.dailyUsers,
    trafficShare: (def.rangeEnd - def.rangeStart) * def.trafficAllocation,
  });
  return { sampleSize, ...duration };
}
