import type { ServiceContext } from "../init.ts";
import { downsampleWindow } from "./downsample.ts";
import type { SeriesInput } from "./series.schema.ts";

/** Beyond a day, hourly points: a week per minute would be 10,080 points per series. */
const bucketMinutesFor = (minutes: number) => (minutes > 1440 ? 60 : 1);

/**
 * Per-minute (beyond a day, hourly) series (overall, per model version, per experiment variant) and window totals from
 * the stream worker's aggregates; empty series when none were written yet.
 */
export const seriesHandler = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext<"monitoring">;
  input: SeriesInput;
}) => {
  const minutes = input?.minutes ?? 60;
  const window = await ctx.monitoring.window({
    minutes,
    until: input?.until ? new Date(input.until) : undefined,
  });
  return downsampleWindow(window, bucketMinutesFor(minutes));
};
