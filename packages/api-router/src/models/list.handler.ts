import type { ServiceContext } from "../init.ts";
import type { ListInput } from "./list.schema.ts";

/** Versions newest first, with offline metrics and the training run that produced them. */
export const listHandler = ({ ctx, input }: { ctx: ServiceContext<"models">; input: ListInput }) =>
  ctx.models.list(input ?? {});
