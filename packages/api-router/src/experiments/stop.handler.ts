import type { ServiceContext } from "../init.ts";
import type { StopInput } from "./stop.schema.ts";

export const stopHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: StopInput;
}) => ctx.experiments.stop(input.key);
