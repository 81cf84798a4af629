import { addLatencyCounts } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import type { ArmServing, ArmUsers } from "../gates.ts";
import { rolloutKey, rolloutVariant } from "../routing.ts";

export interface RolloutArmStats {
  candidate: ArmServing;
  stable: ArmServing;
  candidateUsers: ArmUsers;
  stableUsers: ArmUsers;
  /** The minutes the serving figures cover: those where both arms served (see readArmStats). */
  minutes: number;
}

interface MinuteRow {
  minute: Date;
  variant: string;
  impressions: number;
  failures: number;
  /** null on rows written before the counts were kept */
  latency_counts: number[] | null;
}

const emptyServing = (): ArmServing => ({ impressions: 0, errors: 0, latencyCounts: [] });

function sumServing(rows: MinuteRow[]): ArmServing {
  const sum = emptyServing();
  for (const row of rows) {
    sum.impressions += row.impressions;
    sum.errors += row.failures;
    addLatencyCounts(sum.latencyCounts, row.latency_counts ?? []);
  }
  return sum;
}

/**
 * What the gates judge, read from what the stream worker writes:
 * - serving figures (impressions, failures = status ≥ 500 plus model failures answered by the
 *   fallback, responses per latency bucket) from the per-minute aggregates of this stage, over the minutes in which
 *   BOTH arms served, so both sides see the same traffic mix and time of day; at 100 % stable no
 *   longer serves, and its figures come from every minute of the rollout instead;
 * - click-through per user (exposures, clicks) from the per-user statistics, over the whole
 *   rollout (the always-valid interval is meant to be looked at as data accumulates).
 */
export async function readArmStats(
  prisma: PrismaClient,
  rolloutId: number,
  stageStartedAt: Date,
  fullTraffic: boolean,
): Promise<RolloutArmStats> {
  const key = rolloutKey(rolloutId);
  const candidateVariant = rolloutVariant(rolloutId, "candidate");
  const stableVariant = rolloutVariant(rolloutId, "stable");
  const stageMinute = new Date(Math.floor(stageStartedAt.getTime() / 60_000) * 60_000);
  const minutes = await prisma.$queryRawUnsafe<MinuteRow[]>(
    `SELECT minute, variant, impressions::int AS impressions, (errors + fallbacks)::int AS failures,
            latency_counts
       FROM metric_aggregates
      WHERE experiment_key = $1 AND variant IN ($2, $3) AND minute >= $4::timestamp(3)
      ORDER BY minute`,
    key,
    candidateVariant,
    stableVariant,
    stageMinute.toISOString().replace("Z", ""),
  );
  const byArm = { candidate: [] as MinuteRow[], stable: [] as MinuteRow[] };
  for (const row of minutes)
    (row.variant === candidateVariant ? byArm.candidate : byArm.stable).push(row);
  let candidate: ArmServing;
  let stable: ArmServing;
  let covered: number;
  if (fullTraffic) {
    const history = await prisma.$queryRawUnsafe<MinuteRow[]>(
      `SELECT minute, variant, impressions::int AS impressions, (errors + fallbacks)::int AS failures,
              latency_counts
         FROM metric_aggregates WHERE experiment_key = $1 AND variant = $2`,
      key,
      stableVariant,
    );
    candidate = sumServing(byArm.candidate);
    stable = sumServing(history);
    covered = byArm.candidate.length;
  } else {
    const stableMinutes = new Set(byArm.stable.map((row) => row.minute.getTime()));
    const candidateMinutes = new Set(byArm.candidate.map((row) => row.minute.getTime()));
    candidate = sumServing(
      byArm.candidate.filter((row) => stableMinutes.has(row.minute.getTime())),
    );
    stable = sumServing(byArm.stable.filter((row) => candidateMinutes.has(row.minute.getTime())));
    covered = byArm.candidate.filter((row) => stableMinutes.has(row.minute.getTime())).length;
  }
  const users = await prisma.$queryRawUnsafe<
    {
      variant: string;
      n: number;
      x: number;
      y: number;
      xx: number;
      yy: number;
      xy: number;
    }[]
  >(
    `SELECT variant, count(*)::int AS n, coalesce(sum(exposures), 0)::float8 AS x,
            coalesce(sum(clicks), 0)::float8 AS y,
            coalesce(sum(exposures::float8 * exposures), 0)::float8 AS xx,
            coalesce(sum(clicks::float8 * clicks), 0)::float8 AS yy,
            coalesce(sum(exposures::float8 * clicks), 0)::float8 AS xy
       FROM experiment_user_stats
      WHERE experiment_key = $1 AND variant IN ($2, $3)
      GROUP BY variant`,
    key,
    candidateVariant,
    stableVariant,
  );
  const armUsers = (variant: string): ArmUsers => {
    const row = users.find((u) => u.variant === variant);
    return row
      ? {
          n: Number(row.n),
          exposures: Number(row.x),
          clicks: Number(row.y),
          exposuresSq: Number(row.xx),
          clicksSq: Number(row.yy),
          cross: Number(row.xy),
        }
      : { n: 0, exposures: 0, clicks: 0, exposuresSq: 0, clicksSq: 0, cross: 0 };
  };
  return {
    candidate: candidate ?? emptyServing(),
    stable: stable ?? emptyServing(),
    candidateUsers: armUsers(candidateVariant),
    stableUsers: armUsers(stableVariant),
    minutes: covered,
  };
}
