export { RolloutService } from "./service.ts";
export type {
  ActionRequest,
  RolloutAuditEntry,
  RolloutDetail,
  RolloutTransitionNotice,
  TransitionRequest,
} from "./service.ts";
export type { RolloutView, RolloutEvaluationView, VersionLabel, RolloutRow } from "./rows.ts";
export { RolloutController, CONTROLLER_LEASE } from "./controller.ts";
export type { RolloutControllerOptions, TickReport } from "./controller.ts";
export { DatabaseLease, LeaseLost } from "./lease.ts";
export { readArmStats, type RolloutArmStats } from "./arm-stats.ts";
export { RolloutRouting, RolloutModelResolver, type ActiveRoute } from "./resolver.ts";
export { WebhookSender, signWebhookBody, announceTransitions } from "./webhooks.ts";
export { countTransitions } from "./metrics.ts";
