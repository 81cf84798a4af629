import { latencyBucket } from "@reco/contracts";
import { evaluateGates, type ArmServing, type ArmUsers } from "./gates.ts";
import { decide, type Decision } from "./machine.ts";
import type { GateConfig, StagePlan } from "./plan.ts";

/** mulberry32: small, seeded and fast; enough for simulated traffic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SimulatedTraffic {
  /** New users a minute, split between the arms by the stage's share. */
  usersPerMinute: number;
  /** Stable's click-through per exposure (users vary: each has p·2U, U uniform). */
  stableCtr: number;
  /** Candidate's click-through relative to stable's (0.9 = a 10 % drop; 1 = A/A). */
  candidateCtrRatio: number;
  /** Mean exposures per user (1 + a geometric count). */
  meanExposures: number;
  /** Failed responses per exposure, per arm. */
  errorRate: { stable: number; candidate: number };
  /** Each arm's response latencies (default: 20 ms, every response). */
  latency?: { stable: LatencyModel; candidate: LatencyModel };
}

/**
 * Log-normal latencies with a heavy tail: `medianMs · e^(sigma·Z)`, and with probability
 * `outlierRate` a stall of `outlierMs` × U(0.5, 1.5) on top (a GC pause, a slow disk, a cold cache).
 */
export interface LatencyModel {
  medianMs: number;
  sigma: number;
  outlierRate: number;
  outlierMs: number;
}

export interface SimulationOutcome {
  result: "promoted" | "rolled_back" | "paused" | "unfinished";
  /** Stage position when it ended (0-based). */
  step: number;
  minutes: number;
  last: Decision | null;
}

function emptyUsers(): ArmUsers {
  return { n: 0, exposures: 0, clicks: 0, exposuresSq: 0, clicksSq: 0, cross: 0 };
}

/**
 * One rollout under simulated traffic, judged by the controller's own gate evaluation and
 * decision once a minute: the same code paths as the live controller, without a database.
 */
export function simulateRollout(
  seed: number,
  stages: readonly StagePlan[],
  gates: GateConfig,
  traffic: SimulatedTraffic,
  maxMinutes = 24 * 60,
): SimulationOutcome {
  const random = seededRandom(seed);
  const users = { candidate: emptyUsers(), stable: emptyUsers() };
  let step = 0;
  let stageMinutes = 0;
  let inconclusive = 0;
  let serving = fresh();
  // Stable's serving figures from every stage, for the 100 % stage's comparison.
  const stableHistory = fresh().stable;
  let last: Decision | null = null;
  const geometricP = 1 / traffic.meanExposures;
  const latency = (arm: "candidate" | "stable"): number => {
    const model = traffic.latency?.[arm];
    if (!model) return 20;
    // Box–Muller: one standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    let ms = model.medianMs * Math.exp(model.sigma * z);
    if (random() < model.outlierRate) ms += model.outlierMs * (0.5 + random());
    return ms;
  };
  const count = (serving: ArmServing, ms: number) => {
    const bucket = latencyBucket(ms);
    serving.latencyCounts[bucket] = (serving.latencyCounts[bucket] ?? 0) + 1;
  };
  for (let minute = 1; minute <= maxMinutes; minute++) {
    const stage = stages[step]!;
    for (let u = 0; u < traffic.usersPerMinute; u++) {
      const arm = random() * 100 < stage.trafficPct ? "candidate" : "stable";
      const ctr =
        traffic.stableCtr * (arm === "candidate" ? traffic.candidateCtrRatio : 1) * 2 * random();
      let exposures = 1;
      while (random() > geometricP) exposures++;
      let clicks = 0;
      let errors = 0;
      for (let e = 0; e < exposures; e++) {
        if (random() < ctr) clicks++;
        if (random() < traffic.errorRate[arm]) errors++;
        const ms = latency(arm);
        count(serving[arm], ms);
        if (arm === "stable") count(stableHistory, ms);
      }
      const sums = users[arm];
      sums.n++;
      sums.exposures += exposures;
      sums.clicks += clicks;
      sums.exposuresSq += exposures * exposures;
      sums.clicksSq += clicks * clicks;
      sums.cross += exposures * clicks;
      serving[arm].impressions += exposures;
      serving[arm].errors += errors;
      if (arm === "stable") {
        stableHistory.impressions += exposures;
        stableHistory.errors += errors;
      }
    }
    stageMinutes++;
    const stable = stage.trafficPct >= 100 ? stableHistory : serving.stable;
    const results = evaluateGates({
      candidate: serving.candidate,
      stable,
      candidateUsers: users.candidate,
      stableUsers: users.stable,
      config: gates,
    });
    last = decide(
      {
        stage,
        elapsedMs: stageMinutes * 60_000,
        users: { candidate: users.candidate.n, stable: users.stable.n },
        inconclusiveCount: inconclusive,
        maxInconclusive: gates.maxInconclusive,
        ctrProofFromPct: gates.ctrProofFromPct,
        isLastStage: step === stages.length - 1,
      },
      results,
    );
    switch (last.kind) {
      case "rollback":
        return { result: "rolled_back", step, minutes: minute, last };
      case "promote":
        return { result: "promoted", step, minutes: minute, last };
      case "pause":
        return { result: "paused", step, minutes: minute, last };
      case "advance":
        step++;
        stageMinutes = 0;
        inconclusive = 0;
        serving = fresh();
        break;
      case "inconclusive":
        inconclusive++;
        break;
      case "wait":
        break;
    }
  }
  return { result: "unfinished", step, minutes: maxMinutes, last };

  function fresh(): { candidate: ArmServing; stable: ArmServing } {
    return {
      candidate: { impressions: 0, errors: 0, latencyCounts: [] },
      stable: { impressions: 0, errors: 0, latencyCounts: [] },
    };
  }
}
