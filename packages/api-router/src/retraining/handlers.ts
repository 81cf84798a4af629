import type { Principal } from "@reco/serving";
import type { ServiceContext } from "../init.ts";
import type { RunsInput } from "./runs.schema.ts";

type Ctx = ServiceContext<"retraining">;

/** The schedule, the queued or running run with its phase and progress, the last finished one. */
export const statusHandler = ({ ctx }: { ctx: Ctx }) => ctx.retraining.status();

/** Recent retraining runs, newest first, with the candidate each produced. */
export const runsHandler = ({ ctx, input }: { ctx: Ctx; input: RunsInput }) =>
  ctx.retraining.list(input?.limit ?? 20);

/**
 * Queues a run now as the calling key; the scheduler holding the lease starts it within its tick.
 * With a run already queued or running, answers that run (`queued: false`): one at a time.
 */
export const triggerHandler = ({ ctx }: { ctx: Ctx & { principal: Principal } }) =>
  ctx.retraining.trigger({ by: `key:${ctx.principal.prefix}`, trigger: "manual" });
