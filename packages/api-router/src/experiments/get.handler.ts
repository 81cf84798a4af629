import type { ServiceContext } from "../init.ts";
import type { GetInput } from "./get.schema.ts";

export const getHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: GetInput;
}) => ctx.experiments.get(input.key);
