import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@reco/api-router";

type Outputs = inferRouterOutputs<AppRouter>;
export type RolloutSummary = Outputs["rollouts"]["list"][number];
export type RolloutDetail = Outputs["rollouts"]["get"];
export type RolloutEvaluation = RolloutDetail["evaluations"][number];
export type GateResult = RolloutEvaluation["gates"][number];
export type RolloutAction = RolloutDetail["actions"][number];
export type RolloutDefaults = Outputs["rollouts"]["defaults"];
