import type { TrpcContext } from "../context.ts";
import type { ResultsInput } from "./results.schema.ts";
import { experimentsOf } from "./service.ts";

export const resultsHandler = ({ ctx, input }: { ctx: TrpcContext; input: ResultsInput }) =>
  experimentsOf(ctx).results(input.key, {
    ...(input.mode === undefined ? {} : { mode: input.mode }),
    ...(input.alpha === undefined ? {} : { alpha: input.alpha }),
  });
