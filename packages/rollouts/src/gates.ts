import { sequentialHalfWidth } from "@reco/experiments";
import type { GateConfig } from "./plan.ts";

/** One arm's serving figures over the evaluated minutes (from the per-minute aggregates). */
export interface ArmServing {
  impressions: number;
  /** Responses that failed: status ≥ 500 plus model failures answered by the fallback. */
  errors: number;
  /** Impression-weighted mean of the per-minute p99 latencies; null without impressions. */
  latencyP99Ms: number | null;
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
  /** Always-valid interval of candidate − stable, where the gate has one. */
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

function latencyGate({ candidate, stable, config }: GateInput): GateResult {
  const samples = { candidate: candidate.impressions, stable: stable.impressions };
  const c = candidate.latencyP99Ms;
  const s = stable.latencyP99Ms;
  const threshold =
    s === null ? null : s * (1 + config.latencyP99MarginPct / 100) + config.latencySlackMs;
  if (c === null || threshold === null || candidate.impressions < config.latencyMinImpressions)
    return {
      gate: "latency_p99",
      verdict: "inconclusive",
      candidate: c,
      stable: s,
      threshold,
      interval: null,
      samples,
      note: `needs ${config.latencyMinImpressions} candidate impressions and stable figures`,
    };
  const verdict: GateVerdict = c <= threshold ? "pass" : "fail";
  return {
    gate: "latency_p99",
    verdict,
    candidate: c,
    stable: s,
    threshold,
    interval: null,
    samples,
    note:
      verdict === "pass"
        ? "p99 within the margin of stable's"
        : `p99 above stable's by more than ${config.latencyP99MarginPct} % + ${config.latencySlackMs} ms`,
  };
}

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
