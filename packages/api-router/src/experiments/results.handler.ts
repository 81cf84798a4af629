import type { ServiceContext } from "../init.ts";
import type { ResultsInput } from "./results.schema.ts";

export const resultsHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"experiments">;
  input: ResultsInput;
}) =>
  ctx.experiments.results(input.key, {
    ...(input.mode === undefined ? {} : { mode: input.mode }),
    ...(input.alpha === undefined ? {} : { alpha: input.alpha }),
  });
