// No runtime imports: the dashboard's browser code takes this file alone (`@reco/experiments/metrics`),
// so it must not bring zod, node: modules or the statistics along. The zod enum is in metric-key.ts.
import type { MetricKind } from "./stats/power.ts";

export interface MetricDefinition {
  kind: MetricKind;
  /** false for guardrails such as error rate or latency, where a rise is bad */
  higherIsBetter: boolean;
  label: string;
}

/**
 * Metrics computable from per-user sufficient statistics (experiment_user_stats). Percentile
 * latency (p99) is not a per-user mean, so the latency guardrail here is the user's mean latency;
 * p99 is gated by the rollout monitor instead. Error rate is per user too: met a failed response.
 */
export const METRICS = {
  click_through: { kind: "proportion", higherIsBetter: true, label: "click-through rate" },
  watch_rate: { kind: "proportion", higherIsBetter: true, label: "watch rate" },
  mean_rating: { kind: "mean", higherIsBetter: true, label: "mean rating" },
  error_rate: { kind: "proportion", higherIsBetter: false, label: "error rate" },
  latency_ms: { kind: "mean", higherIsBetter: false, label: "mean latency (ms)" },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;
