import { ACTION_FROM, MANUAL_ACTIONS } from "@reco/rollouts";
import type { ServiceContext } from "../init.ts";
import type { GetInput } from "./get.schema.ts";

/**
 * The rollout with its audit log and recent evaluations (each gate's value, threshold, interval
 * and verdict), plus the manual actions its status allows now (from ACTION_FROM), so clients need
 * not repeat the state machine.
 */
export async function getHandler({
  ctx,
  input,
}: {
  ctx: ServiceContext<"rollouts">;
  input: GetInput;
}) {
  const detail = await ctx.rollouts.detail(input.id);
  const actions = MANUAL_ACTIONS.filter((action) => ACTION_FROM[action].includes(detail.status));
  return { ...detail, actions };
}
