import { DEFAULT_EVALUATION_INTERVAL_MS, DEFAULT_GATES, DEFAULT_STAGES } from "@reco/rollouts";

/** What a start form fills in before the engineer changes it: the plan's own defaults. */
export const defaultsHandler = () => ({
  stages: DEFAULT_STAGES.map((stage) => ({ ...stage })),
  gates: DEFAULT_GATES,
  evaluationIntervalS: DEFAULT_EVALUATION_INTERVAL_MS / 1000,
});
