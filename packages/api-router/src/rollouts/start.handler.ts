import type { Principal } from "@reco/serving";
import type { ServiceContext } from "../init.ts";
import type { StartInput } from "./start.schema.ts";
import { actorOf } from "./service.ts";

/**
 * Starts a rollout as the calling key. Answers the rollout (pending: the controller starts its
 * first stage) and the webhook signing secret, which is shown this once (null without a webhook).
 */
export const startHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"rollouts"> & { principal: Principal };
  input: StartInput;
}) => ctx.rollouts.start(input, actorOf(ctx.principal));
