import { Unavailable } from "@reco/contracts";
import type { RolloutService } from "@reco/rollouts/store";
import type { Principal } from "@reco/serving";
import type { TrpcContext } from "../context.ts";

/** The rollout service of this api; absent only in servers built without a database for it. */
export function rolloutsOf(ctx: TrpcContext): RolloutService {
  const service = ctx.services.rollouts;
  if (!service) throw new Unavailable("rollouts are not configured on this server");
  return service;
}

/** Who acts, as the audit log and the model stages record it: the calling key, as set-stage does. */
export const actorOf = (principal: Principal): string => `key:${principal.prefix}`;
