import { AppError, BadInput } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import { z } from "zod";
import { assignVariant } from "../assignment.ts";
import type { ExperimentDefinition } from "../definition.ts";
import type { MetricKey } from "../metrics.ts";
import type { PerVariantStats } from "../results-types.ts";

/** An outcome attributed to an exposed user: the unit the per-user statistics are built from. */
export const outcomeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("click") }).strict(),
  z.object({ kind: z.literal("watch") }).strict(),
  z.object({ kind: z.literal("rating"), rating: z.number().min(0.5).max(5) }).strict(),
]);
export type Outcome = z.infer<typeof outcomeSchema>;

export interface ExposureRecord {
  experimentKey: string;
  variant: string;
  userId: string;
  /** how many times this user has been exposed; the user counts once in the results */
  exposures: number;
}

export function requireRunning(def: ExperimentDefinition, what: string): void {
  if (def.status !== "running")
    throw new AppError(
      "CONFLICT",
      `experiment "${def.key}" is ${def.status}: ${what} are recorded only while it runs`,
      { issues: [{ field: "status", message: `is ${def.status}, not running` }] },
    );
}

/**
 * Records that `userId` saw `variant`. The variant must be the one assignment gives the user, so
 * the logged split can only drift from the weights through lost exposures, which the SRM check
 * then flags. Idempotent for the results: a user is one row, however often exposed. `def` may be
 * a cached copy: nothing that moves users can change while running, and the write itself checks
 * that the experiment still runs (null when it no longer does).
 */
export async function recordExposure(
  prisma: PrismaClient,
  def: ExperimentDefinition,
  variant: string,
  userId: string,
): Promise<ExposureRecord | null> {
  requireRunning(def, "exposures");
  if (!def.variants.some((v) => v.name === variant))
    throw new BadInput(`variant: "${variant}" is not a variant of ${def.key}`, {
      issues: [{ field: "variant", message: `not a variant of ${def.key}` }],
    });
  const assigned = assignVariant(def, userId);
  if (!assigned.inExperiment || assigned.variant !== variant) {
    const message = assigned.inExperiment
      ? `user "${userId}" is assigned to "${assigned.variant}", not "${variant}"`
      : `user "${userId}" is not in the experiment (${assigned.reason})`;
    throw new BadInput(`variant: ${message}`, { issues: [{ field: "variant", message }] });
  }
  // Timestamps in UTC without zone, as Prisma reads and writes them. The hour row (source "api")
  // is what keeps the exposure when the stream worker sets the user's totals to the sum of their
  // hours; both writes are one statement.
  const rows = await prisma.$queryRaw<{ exposures: number }[]>`
    WITH running AS (
      SELECT 1 FROM experiments WHERE key = ${def.key} AND status = 'running'
    ), totals AS (
      INSERT INTO experiment_user_stats (experiment_key, variant, user_id, exposures, first_exposure, updated_at)
      SELECT ${def.key}, ${variant}, ${userId}, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
       WHERE EXISTS (SELECT 1 FROM running)
      ON CONFLICT (experiment_key, variant, user_id) DO UPDATE
        SET exposures = experiment_user_stats.exposures + 1, updated_at = now() AT TIME ZONE 'UTC'
      RETURNING exposures
    ), hour AS (
      INSERT INTO experiment_user_hour_stats (experiment_key, variant, user_id, hour, source, exposures, first_exposure)
      SELECT ${def.key}, ${variant}, ${userId}, date_trunc('hour', now() AT TIME ZONE 'UTC'), 'api', 1,
             now() AT TIME ZONE 'UTC'
       WHERE EXISTS (SELECT 1 FROM running)
      ON CONFLICT (experiment_key, variant, user_id, hour, source) DO UPDATE
        SET exposures = experiment_user_hour_stats.exposures + 1
    )
    SELECT exposures FROM totals`;
  const row = rows[0];
  return row ? { experimentKey: def.key, variant, userId, exposures: row.exposures } : null;
}

/**
 * Adds an outcome to an exposed user's row, within the attribution window counted from the first
 * exposure. Outcomes of users never exposed (or outside the window) are not attributable and are
 * reported as not recorded rather than counted. Click and watch metrics are per-user 0/1 values, so
 * a retried click does not move them. Like recordExposure: null when the experiment no longer runs.
 */
export async function recordOutcome(
  prisma: PrismaClient,
  def: ExperimentDefinition,
  userId: string,
  outcome: Outcome,
): Promise<{ recorded: boolean; variant: string | null; reason?: string } | null> {
  requireRunning(def, "outcomes");
  const rating = outcome.kind === "rating" ? outcome.rating : 0;
  const rows = await prisma.$queryRaw<{ variant: string | null; in_window: boolean }[]>`
    WITH running AS (
      SELECT 1 FROM experiments WHERE key = ${def.key} AND status = 'running'
    ), target AS (
      SELECT id, variant, first_exposure,
             first_exposure >= (now() AT TIME ZONE 'UTC') - make_interval(secs => ${def.attributionWindowS}::int) AS in_window
        FROM experiment_user_stats
       WHERE experiment_key = ${def.key} AND user_id = ${userId} AND exposures > 0
         AND EXISTS (SELECT 1 FROM running)
       LIMIT 1
    ), updated AS (
      UPDATE experiment_user_stats s
         SET clicks = s.clicks + ${outcome.kind === "click" ? 1 : 0}::int,
             watches = s.watches + ${outcome.kind === "watch" ? 1 : 0}::int,
             rating_sum = s.rating_sum + ${rating}::float8,
             rating_count = s.rating_count + ${outcome.kind === "rating" ? 1 : 0}::int,
             updated_at = now() AT TIME ZONE 'UTC'
        FROM target t
       WHERE s.id = t.id AND t.in_window
    ), hour AS (
      INSERT INTO experiment_user_hour_stats (experiment_key, variant, user_id, hour, source, clicks,
          watches, rating_sum, rating_count, first_exposure)
      SELECT ${def.key}, t.variant, ${userId}, date_trunc('hour', now() AT TIME ZONE 'UTC'), 'api',
             ${outcome.kind === "click" ? 1 : 0}::int, ${outcome.kind === "watch" ? 1 : 0}::int,
             ${rating}::float8, ${outcome.kind === "rating" ? 1 : 0}::int, t.first_exposure
        FROM target t
       WHERE t.in_window
      ON CONFLICT (experiment_key, variant, user_id, hour, source) DO UPDATE SET
        clicks = experiment_user_hour_stats.clicks + EXCLUDED.clicks,
        watches = experiment_user_hour_stats.watches + EXCLUDED.watches,
        rating_sum = experiment_user_hour_stats.rating_sum + EXCLUDED.rating_sum,
        rating_count = experiment_user_hour_stats.rating_count + EXCLUDED.rating_count,
        first_exposure = least(experiment_user_hour_stats.first_exposure, EXCLUDED.first_exposure)
    )
    SELECT variant, in_window FROM target
    UNION ALL SELECT NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM running)`;
  const row = rows[0];
  if (row?.variant === null) return null;
  if (!row) return { recorded: false, variant: null, reason: "user was never exposed" };
  if (!row.in_window)
    return {
      recorded: false,
      variant: row.variant,
      reason: `outside the ${def.attributionWindowS} s attribution window`,
    };
  return { recorded: true, variant: row.variant };
}

/** Per-user value of each metric and which users it is averaged over. */
const METRIC_SQL: Record<MetricKey, { value: string; over: string }> = {
  click_through: { value: "(clicks > 0)::int::float8", over: "TRUE" },
  watch_rate: { value: "(watches > 0)::int::float8", over: "TRUE" },
  mean_rating: { value: "(rating_sum / rating_count)::float8", over: "rating_count > 0" },
  // Guardrails, over the users served through /recommend (the stream worker counts their
  // responses; exposures recorded through the API carry no serving figures): whether a user met
  // a failed response (status ≥ 500, or the fallback answered), and the user's mean latency.
  error_rate: { value: "(failures > 0)::int::float8", over: "responses > 0" },
  latency_ms: { value: "(latency_sum_ms / responses)::float8", over: "responses > 0" },
};

/** Metrics the per-user rows answer: every metric. */
export const USER_STAT_METRICS = Object.keys(METRIC_SQL) as MetricKey[];

const statsQuery = `SELECT variant, count(*)::float8 AS users, ${USER_STAT_METRICS.flatMap((m) => {
  const { value, over } = METRIC_SQL[m]!;
  const f = `FILTER (WHERE ${over})`;
  return [
    `count(*) ${f}::float8 AS "${m}_n"`,
    `coalesce(sum(${value}) ${f}, 0)::float8 AS "${m}_sum"`,
    `coalesce(sum(${value} * ${value}) ${f}, 0)::float8 AS "${m}_sq"`,
    `count(pre_metric) ${f}::float8 AS "${m}_pre_n"`,
    `coalesce(sum(pre_metric) ${f}, 0)::float8 AS "${m}_pre_sum"`,
    `coalesce(sum(pre_metric * pre_metric) ${f}, 0)::float8 AS "${m}_pre_sq"`,
    `coalesce(sum(pre_metric * ${value}) ${f}, 0)::float8 AS "${m}_cross"`,
  ];
}).join(
  ", ",
)} FROM experiment_user_stats WHERE experiment_key = $1 AND exposures > 0 GROUP BY variant`;

/**
 * Per-variant sufficient statistics (n, Σx, Σx²) over exposed users, straight from SQL aggregates.
 * Pre-period covariate sums (CUPED) are attached only when every user of the metric has one.
 */
export async function variantStats(
  prisma: PrismaClient,
  def: ExperimentDefinition,
): Promise<PerVariantStats> {
  const rows = await prisma.$queryRawUnsafe<Record<string, number | string>[]>(statsQuery, def.key);
  const known = new Set(def.variants.map((v) => v.name));
  const stats: PerVariantStats = {};
  for (const row of rows) {
    const name = String(row.variant);
    if (!known.has(name)) continue;
    const metrics: PerVariantStats[string]["metrics"] = {};
    for (const m of USER_STAT_METRICS) {
      const get = (suffix: string) => Number(row[`${m}_${suffix}`]);
      const n = get("n");
      if (n === 0) continue;
      const covariate =
        get("pre_n") === n
          ? { preSum: get("pre_sum"), preSumSquares: get("pre_sq"), crossSum: get("cross") }
          : {};
      metrics[m] = { n, sum: get("sum"), sumSquares: get("sq"), ...covariate };
    }
    stats[name] = { users: Number(row.users), metrics };
  }
  return stats;
}
