import type { ExperimentUserHourStat } from "./generated/prisma/client.ts";

/**
 * The per-user experiment counts, kept in total (experiment_user_stats) and per hour
 * (experiment_user_hour_stats): outcomes, and the serving figures of the responses served through
 * /recommend (responses, failed ones, their latencies' sum) that the guardrails use.
 */
export const EXPERIMENT_STAT_COUNTS = [
  "exposures",
  "clicks",
  "watches",
  "ratingSum",
  "ratingCount",
  "responses",
  "failures",
  "latencySumMs",
] as const;

export type ExperimentStatCounts = Pick<
  ExperimentUserHourStat,
  (typeof EXPERIMENT_STAT_COUNTS)[number]
>;

/** The counts of a row (a total or an hour), without its other fields. */
export function experimentStatCounts(row: ExperimentStatCounts): ExperimentStatCounts {
  const counts = {} as ExperimentStatCounts;
  for (const key of EXPERIMENT_STAT_COUNTS) counts[key] = row[key];
  return counts;
}
