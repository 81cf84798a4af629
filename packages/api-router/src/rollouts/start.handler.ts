import type { Principal } from "@reco/serving";
import type { TrpcContext } from "../context.ts";
import type { StartInput } from "./start.schema.ts";
import { actorOf, rolloutsOf } from "./service.ts";

/**
 * Starts a rollout as the calling key. Answers the rollout (pending: the controller starts its
 * first stage) and the webhook signing secret, which is shown this once (null without a webhook).
 */
export const startHandler = ({
  ctx,
  input,
}: {
  ctx: TrpcContext & { principal: Principal };
  input: StartInput;
}) => rolloutsOf(ctx).start(input, actorOf(ctx.principal));
