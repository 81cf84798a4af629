import {
  countAbove,
  latencyBucketUpperMs,
  latencyQuantileMs,
  latencyTotal,
  nearestLatencyBound,
} from "@reco/contracts";
import { sequentialHalfWidth } from "@reco/experiments";
import type { GateConfig } from "./plan.ts";

/** One arm's serving figures over the evaluated minutes (from the per-minute aggregates). */
export interface ArmServing {
  impressions: number;
  /** Responses that failed: status ≥ 500 plus model failures answered by the fallback. */
  errors: number;
  /**
   * Responses per latency bucket (@reco/contracts' ladder), summed over the evaluated minutes:
   * counts add across minutes, where per-minute percentiles do not.
   */
  latencyCounts: number[];
}

/**
 * One arm's per-user sufficient statistics of click-through (clicks per exposure): users, and the
 * sums over users of exposures x, clicks y, x², y² and xy. The user is the unit of randomisation,
 * so the variance comes from users (delta method), not from impressions.
 */
export interface ArmUsers {
  n: number;
  exposures: number;
  clicks: number;
  exposuresSq: number;
  clicksSq: number;
  cross: number;
}

export type GateName = "error_rate" | "latency_p99" | "click_through";
export type GateVerdict = "pass" | "fail" | "inconclusive";

export interface GateResult {
  gate: GateName;
  verdict: GateVerdict;
  candidate: number | null;
  stable: number | null;
  /** What the candidate's figure is held to (error rate: stable + margin; CTR: stable − margin). */
  threshold: number | null;
  /**
   * Always-valid interval of candidate − stable, where the gate has one; for latency, of the
   * candidate's share of responses slower than the threshold (held to 1 %).
   */
  interval: [number, number] | null;
  samples: { candidate: number; stable: number };
  note: string;
}

export interface GateInput {
  candidate: ArmServing;
  stable: ArmServing;
  candidateUsers: ArmUsers;
  stableUsers: ArmUsers;
  config: GateConfig;
}

/** Click-through and its delta-method variance (a ratio of per-user sums). */
export function ratioEstimate(
  arm: ArmUsers,
): { ratio: number; variance: number; userVariance: number } | null {
  if (arm.n < 2 || arm.exposures <= 0) return null;
  const n = arm.n;
  const ratio = arm.clicks / arm.exposures;
  const meanX = arm.exposures / n;
  const varX = (arm.exposuresSq - (arm.exposures * arm.exposures) / n) / (n - 1);
  const varY = (arm.clicksSq - (arm.clicks * arm.clicks) / n) / (n - 1);
  const covXY = (arm.cross - (arm.exposures * arm.clicks) / n) / (n - 1);
  // the variance of a user's linearised contribution y − ratio·x
  const userVariance = Math.max(0, varY - 2 * ratio * covXY + ratio * ratio * varX);
  return { ratio, variance: userVariance / (n * meanX * meanX), userVariance };
}

/**
 * Each arm's variance of click-through, at least what the per-user variance pooled over both arms
 * gives at the arm's size. With few users the arm's own (plug-in) variance is small exactly when
 * its observed rate is low (10 users, 3 exposures each, 2 clicks in all: the variance reads a
 * third of the pooled one), so an arm that is no worse got judged worse by chance more often
 * than α/2 allows: 3.5 % of 2,000 simulated A/A rollouts at the end-to-end suite's traffic,
 * against 2.5 %. The pooled figure comes mostly from the other arm, so it does not move with the
 * difference being tested (as in a pooled two-sample test); taking the larger of the two keeps
 * the interval valid when the arms' spreads truly differ.
 */
function armVariances(
  candidate: { variance: number; userVariance: number },
  candidateUsers: ArmUsers,
  stable: { variance: number; userVariance: number },
  stableUsers: ArmUsers,
): { candidate: number; stable: number } {
  const pooled =
    ((candidateUsers.n - 1) * candidate.userVariance + (stableUsers.n - 1) * stable.userVariance) /
    (candidateUsers.n + stableUsers.n - 2);
  const floor = (arm: ArmUsers) => (pooled * arm.n) / (arm.exposures * arm.exposures);
  return {
    candidate: Math.max(candidate.variance, floor(candidateUsers)),
    stable: Math.max(stable.variance, floor(stableUsers)),
  };
}

function errorRateGate({ candidate, stable, config }: GateInput): GateResult {
  const samples = { candidate: candidate.impressions, stable: stable.impressions };
  if (candidate.impressions === 0 || stable.impressions === 0)
    return {
      gate: "error_rate",
      verdict: "inconclusive",
      candidate: candidate.impressions ? candidate.errors / candidate.impressions : null,
      stable: stable.impressions ? stable.errors / stable.impressions : null,
      threshold: null,
      interval: null,
      samples,
      note: "no impressions in one arm yet",
    };
  const rc = candidate.errors / candidate.impressions;
  const rs = stable.errors / stable.impressions;
  // Variances from smoothed rates, so zero errors on both sides does not look like certainty.
  const sc = (candidate.errors + 1) / (candidate.impressions + 2);
  const ss = (stable.errors + 1) / (stable.impressions + 2);
  const variance = (sc * (1 - sc)) / candidate.impressions + (ss * (1 - ss)) / stable.impressions;
  const half = sequentialHalfWidth({
    variance,
    n: candidate.impressions + stable.impressions,
    tuningN: config.tuningUsers,
    alpha: config.alpha,
  });
  const diff = rc - rs;
  const interval: [number, number] = [diff - half, diff + half];
  const margin = config.errorRateMargin;
  const verdict: GateVerdict =
    interval[0] > margin ? "fail" : interval[1] <= margin ? "pass" : "inconclusive";
  return {
    gate: "error_rate",
    verdict,
    candidate: rc,
    stable: rs,
    threshold: rs + margin,
    interval,
    samples,
    note:
      verdict === "fail"
        ? `error rate above stable's by more than ${margin} with confidence`
        : verdict === "pass"
          ? `error rate within ${margin} of stable's with confidence`
          : "interval still spans the margin",
  };
}

/**
 * A p99 is the latency 1 % of responses exceed. The candidate's p99 is held to
 * T = stable's p99 × (1 + margin) + slack (stable's p99 read from its histogram over the same
 * minutes, T rounded to the nearest bucket bound), so the gate judges the share of the candidate's
 * responses slower than T: fail when the always-valid interval of that share lies above 1 % (its
 * p99 is above T), pass when it lies at or below 1 %. Counts over the whole stage, and an interval
 * valid at every look, replaced a plain threshold on the mean of per-minute p99s, which,
 * evaluated every minute, rolled back 22 % of simulated A/A rollouts with heavy-tailed latencies
 * (57 % with heavier ones; src/simulate.test.ts gives the traffic).
 */
export const LATENCY_TAIL_SHARE = 0.01;

function latencyGate({ candidate, stable, config }: GateInput): GateResult {
  const nc = latencyTotal(candidate.latencyCounts);
  const ns = latencyTotal(stable.latencyCounts);
  const samples = { candidate: nc, stable: ns };
  const c = latencyQuantileMs(candidate.latencyCounts, 0.99);
  const s = latencyQuantileMs(stable.latencyCounts, 0.99);
  const minimum = config.latencyMinImpressions;
  if (c === null || s === null || nc < minimum || ns < minimum)
    return {
      gate: "latency_p99",
      verdict: "inconclusive",
      candidate: c,
      stable: s,
      threshold: null,
      interval: null,
      samples,
      note: `needs ${minimum} timed responses in each arm`,
    };
  const bound = nearestLatencyBound(
    s * (1 + config.latencyP99MarginPct / 100) + config.latencySlackMs,
  );
  const threshold = latencyBucketUpperMs(bound);
  const slow = countAbove(candidate.latencyCounts, bound);
  const share = slow / nc;
  // Smoothed as the error rate's: no slow response at all is not certainty.
  const smoothed = (slow + 1) / (nc + 2);
  const half = sequentialHalfWidth({
    variance: (smoothed * (1 - smoothed)) / nc,
    n: nc,
    tuningN: config.tuningUsers,
    alpha: config.alpha,
  });
  const interval: [number, number] = [share - half, share + half];
  const verdict: GateVerdict =
    interval[0] > LATENCY_TAIL_SHARE
      ? "fail"
      : interval[1] <= LATENCY_TAIL_SHARE
        ? "pass"
        : "inconclusive";
  const shares = `${percent(share)} of the candidate's responses slower than ${threshold.toFixed(1)} ms, stable's ${percent(countAbove(stable.latencyCounts, bound) / ns)}`;
  return {
    gate: "latency_p99",
    verdict,
    candidate: c,
    stable: s,
    threshold,
    interval,
    samples,
    note:
      verdict === "fail"
        ? `p99 above stable's by more than ${config.latencyP99MarginPct} % + ${config.latencySlackMs} ms with confidence (${shares})`
        : verdict === "pass"
          ? `p99 within ${config.latencyP99MarginPct} % + ${config.latencySlackMs} ms of stable's with confidence (${shares})`
          : `interval still spans the 1 % a p99 allows (${shares})`,
  };
}

const percent = (share: number) => `${(share * 100).toFixed(2)} %`;

/**
 * Non-inferiority of click-through with an always-valid interval of candidate − stable: pass when
 * its lower end is above −margin·stable (not worse by more than the margin), fail when its upper
 * end is below 0 (worse than stable), else inconclusive. Because the interval is valid at every
 * look, evaluating every minute does not inflate false rollbacks: under no difference the upper
 * end drops below 0 with probability at most α/2 over the whole rollout.
 */
function clickThroughGate({ candidateUsers, stableUsers, config }: GateInput): GateResult {
  const samples = { candidate: candidateUsers.n, stable: stableUsers.n };
  const c = ratioEstimate(candidateUsers);
  const s = ratioEstimate(stableUsers);
  const minUsers = Math.max(2, config.ctrMinUsers);
  if (!c || !s || candidateUsers.n < minUsers || stableUsers.n < minUsers)
    return {
      gate: "click_through",
      verdict: "inconclusive",
      candidate: c?.ratio ?? null,
      stable: s?.ratio ?? null,
      threshold: null,
      interval: null,
      samples,
      note: `needs ${minUsers} exposed users in each arm`,
    };
  const margin = (config.ctrMarginPct / 100) * s.ratio;
  const diff = c.ratio - s.ratio;
  const arms = armVariances(c, candidateUsers, s, stableUsers);
  // A floor on the variance: with no clicks at all on both sides it would be 0.
  const variance = Math.max(arms.candidate + arms.stable, 1e-12);
  const half = sequentialHalfWidth({
    variance,
    n: candidateUsers.n + stableUsers.n,
    tuningN: config.tuningUsers,
    alpha: config.alpha,
  });
  const interval: [number, number] = [diff - half, diff + half];
  const verdict: GateVerdict =
    interval[1] < 0 ? "fail" : interval[0] > -margin ? "pass" : "inconclusive";
  return {
    gate: "click_through",
    verdict,
    candidate: c.ratio,
    stable: s.ratio,
    threshold: s.ratio - margin,
    interval,
    samples,
    note:
      verdict === "fail"
        ? "click-through below stable's with confidence"
        : verdict === "pass"
          ? `not worse than stable's by more than ${config.ctrMarginPct} % (non-inferior)`
          : "interval still spans the non-inferiority margin",
  };
}

/** Every gate of one evaluation, candidate against stable. */
export function evaluateGates(input: GateInput): GateResult[] {
  return [errorRateGate(input), latencyGate(input), clickThroughGate(input)];
}
