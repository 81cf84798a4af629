import type { ServiceContext } from "../init.ts";
import type { ListInput } from "./list.schema.ts";

export const listHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: ListInput;
}) => ctx.experiments.list(input ?? {});
