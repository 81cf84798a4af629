import type { ServiceContext } from "../init.ts";
import type { StartInput } from "./start.schema.ts";

/** Needs ≥ 2 variants, a primary metric and a free namespace range (BAD_REQUEST naming the field). */
export const startHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: StartInput;
}) => ctx.experiments.start(input.key);
