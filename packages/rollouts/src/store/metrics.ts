import { Counter, type Registry } from "prom-client";
import type { RolloutService } from "./service.ts";

/**
 * `reco_rollout_transitions_total{model,to}`: every transition this process made (the controller's
 * and an engineer's through this instance's API), for the "rollout rolled back" alert and the
 * dashboard. Summed over instances it counts each transition once: only the process that wrote a
 * transition announces it. Returns the unsubscribe function.
 */
export function countTransitions(
  rollouts: Pick<RolloutService, "onTransition">,
  registry: Registry,
): () => void {
  const transitions = new Counter({
    name: "reco_rollout_transitions_total",
    help: "Rollout status changes written by this process, by model name and new status",
    labelNames: ["model", "to"],
    registers: [registry],
  });
  const unsubscribe = rollouts.onTransition((notice) =>
    transitions.inc({ model: notice.rollout.modelName, to: notice.to }),
  );
  return () => {
    unsubscribe();
    registry.removeSingleMetric("reco_rollout_transitions_total");
  };
}
