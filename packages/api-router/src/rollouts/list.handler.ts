import type { ServiceContext } from "../init.ts";
import type { ListInput } from "./list.schema.ts";

/** Rollouts newest first (at most 200), optionally of one status or model. */
export const listHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"rollouts">;
  input: ListInput;
}) => ctx.rollouts.list(input ?? {});
