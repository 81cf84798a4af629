import type { Principal } from "@reco/serving";
import type { ServiceContext } from "../init.ts";
import type { ActInput } from "./act.schema.ts";
import { actorOf } from "./service.ts";

/**
 * A manual action (promote, promote_full, pause, resume, abort, rollback, undo) as the calling key.
 * 409 when the status does not allow it or the rollout changed since `version`.
 */
export const actHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"rollouts"> & { principal: Principal };
  input: ActInput;
}) =>
  ctx.rollouts.act({
    id: input.id,
    action: input.action,
    expectedVersion: input.version,
    actor: actorOf(ctx.principal),
    ...(input.reason ? { reason: input.reason } : {}),
  });
