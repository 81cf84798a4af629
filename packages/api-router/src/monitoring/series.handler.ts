import type { ServiceContext } from "../init.ts";
import type { SeriesInput } from "./series.schema.ts";

/**
 * Per-minute series (overall, per model version, per experiment variant) and window totals from
 * the stream worker's aggregates; empty series when none were written yet.
 */
export const seriesHandler = ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"monitoring">;
  input: SeriesInput;
}) =>
  ctx.monitoring.window({
    minutes: input?.minutes ?? 60,
    until: input?.until ? new Date(input.until) : undefined,
  });
