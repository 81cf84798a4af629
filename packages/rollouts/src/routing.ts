import { hashToUnit } from "@reco/experiments";

export type RolloutArm = "candidate" | "stable";

/**
 * The user's place in a rollout, uniform in [0, 100). Seeded by the rollout id alone, so it is
 * the same at every stage (a user below 5 is below 50 too: nobody who saw the candidate goes
 * back) and independent of experiment buckets, which hash the experiment's own seed.
 */
export function rolloutBucket(rolloutId: number, userId: string): number {
  return hashToUnit(`rollout:${rolloutId}`, userId) * 100;
}

export function rolloutArm(rolloutId: number, userId: string, trafficPct: number): RolloutArm {
  return rolloutBucket(rolloutId, userId) < trafficPct ? "candidate" : "stable";
}

/** The exposure labels: `experimentKey` = rollout:<id>, `variant` = rollout:<id>:<arm>. */
export function rolloutKey(rolloutId: number): string {
  return `rollout:${rolloutId}`;
}

export function rolloutVariant(rolloutId: number, arm: RolloutArm): string {
  return `${rolloutKey(rolloutId)}:${arm}`;
}
