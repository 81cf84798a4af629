import type { ServiceContext } from "../init.ts";
import type { ConcludeInput } from "./conclude.schema.ts";

export const concludeHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: ConcludeInput;
}) =>
  ctx.experiments.conclude(input.key, {
    decision: input.decision,
    ...(input.decisionReason === undefined ? {} : { decisionReason: input.decisionReason }),
  });
