import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RolloutValidationError } from "./errors.ts";
import {
  evaluateGates,
  ratioEstimate,
  type ArmServing,
  type ArmUsers,
  type GateInput,
  type GateResult,
} from "./gates.ts";
import {
  ACTION_FROM,
  ACTIVE_STATUSES,
  decide,
  MANUAL_ACTIONS,
  manualTransition,
  ROLLOUT_STATUSES,
  stageMissing,
  type StageProgress,
} from "./machine.ts";
import { DEFAULT_GATES, DEFAULT_STAGES, parseRolloutInput, type GateConfig } from "./plan.ts";
import { rolloutArm, rolloutBucket, rolloutKey, rolloutVariant } from "./routing.ts";

/**
 * The canary's decisions at their boundaries: each gate's verdict on either side of its margin,
 * the stage decision for every combination that matters, the manual actions from every status,
 * the routing hash and the plan's defaults. Expected values are computed here from the published
 * formulas (Howard et al. 2021 normal mixture, delta method), not by calling the code under test.
 */

/** Half-width of the always-valid interval (Howard et al. 2021, eq. 14; GrowthBook's form). */
function mixtureHalfWidth(variance: number, n: number, tuningN: number, alpha: number): number {
  const l = -2 * Math.log(alpha);
  const rho2 = (l + Math.log(l + 1)) / tuningN;
  return Math.sqrt(
    ((variance * n * 2 * (n * rho2 + 1)) / (n * n * rho2)) *
      Math.log(Math.sqrt(n * rho2 + 1) / alpha),
  );
}

/** The double next to `x` (towards +∞ for step 1, −∞ for −1). */
function nextDouble(x: number, step: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(step * (x >= 0 ? 1 : -1)));
  return view.getFloat64(0);
}

/** A percentage p with (p / 100) × rate === target exactly, searched among nearby doubles. */
function exactPercent(target: number, rate: number): number {
  const guess = (target / rate) * 100;
  for (const step of [1, -1] as const) {
    let p = guess;
    for (let i = 0; i < 64; i++, p = nextDouble(p, step)) if ((p / 100) * rate === target) return p;
  }
  throw new Error(`no percentage gives exactly ${target}`);
}

/** Per-user sums of users who each had `exposures` exposures and `clicks` clicks. */
function users(rows: [exposures: number, clicks: number][]): ArmUsers {
  const u = { n: 0, exposures: 0, clicks: 0, exposuresSq: 0, clicksSq: 0, cross: 0 };
  for (const [x, y] of rows) {
    u.n++;
    u.exposures += x;
    u.clicks += y;
    u.exposuresSq += x * x;
    u.clicksSq += y * y;
    u.cross += x * y;
  }
  return u;
}

/** `count` users with `exposures` each, `clickers` of whom clicked once. */
function uniformRows(count: number, exposures: number, clickers: number): [number, number][] {
  return Array.from({ length: count }, (_, i) => [exposures, i < clickers ? 1 : 0]);
}

function uniformUsers(count: number, exposures: number, clickers: number): ArmUsers {
  return users(uniformRows(count, exposures, clickers));
}

/** Sample variance of each user's y − ratio·x (the linearised ratio), in two passes. */
function residualVariance(rows: [exposures: number, clicks: number][]): number {
  const ratio = rows.reduce((a, [, y]) => a + y, 0) / rows.reduce((a, [x]) => a + x, 0);
  const residuals = rows.map(([x, y]) => y - ratio * x);
  const mean = residuals.reduce((a, d) => a + d, 0) / rows.length;
  return residuals.reduce((a, d) => a + (d - mean) ** 2, 0) / (rows.length - 1);
}

/** Responses per latency bucket from {bucket: count}; bucket i holds (2^((i−1)/4), 2^(i/4)] ms. */
function latencies(byBucket: Record<number, number>): number[] {
  const counts = new Array<number>(65).fill(0);
  for (const [bucket, n] of Object.entries(byBucket)) counts[Number(bucket)] = n;
  return counts;
}

// every response in bucket 18, (19.0, 22.6] ms
const serving = (
  impressions: number,
  errors: number,
  latencyCounts = latencies({ 18: impressions }),
) => ({ impressions, errors, latencyCounts }) satisfies ArmServing;

function gateInput(
  overrides: Partial<GateInput> = {},
  config: Partial<GateConfig> = {},
): GateInput {
  return {
    candidate: serving(10_000, 10),
    stable: serving(10_000, 10),
    candidateUsers: uniformUsers(2000, 5, 1000),
    stableUsers: uniformUsers(2000, 5, 1000),
    config: { ...DEFAULT_GATES, ...config },
    ...overrides,
  };
}

const gate = (results: GateResult[], name: GateResult["gate"]) =>
  results.find((r) => r.gate === name)!;

describe("ratioEstimate: click-through per exposure with a per-user delta-method variance", () => {
  it("matches the hand-computed ratio and variance", () => {
    // users (x exposures, y clicks): (2,1) (4,0) (6,3): Σx 12, Σy 4, Σx² 56, Σy² 10, Σxy 20
    // r = 1/3, x̄ = 4, Var x = 4, Var y = 7/3, Cov = 2 → (7/3 − 4/3 + 4/9) / (3·16) = 13/432
    const r = ratioEstimate(
      users([
        [2, 1],
        [4, 0],
        [6, 3],
      ]),
    )!;
    expect(r.ratio).toBeCloseTo(1 / 3, 15);
    expect(r.variance).toBeCloseTo(13 / 432, 15);
  });

  it("needs 2 users and some exposures", () => {
    expect(ratioEstimate(users([[3, 1]]))).toBeNull();
    expect(
      ratioEstimate(
        users([
          [0, 0],
          [0, 0],
        ]),
      ),
    ).toBeNull();
    expect(
      ratioEstimate(
        users([
          [1, 0],
          [1, 1],
        ]),
      ),
    ).not.toBeNull();
  });
});

describe("error-rate gate", () => {
  // Evaluated inside each test: code run while the file loads is not a test, and a failure there
  // would not count against a mutant.
  const base = () => gateInput({ candidate: serving(10_000, 90), stable: serving(8_000, 40) });
  const evaluate = () => gate(evaluateGates(base()), "error_rate");

  it("reports both rates, the threshold and an always-valid interval of the difference", () => {
    const first = evaluate();
    const rc = 90 / 10_000;
    const rs = 40 / 8_000;
    const sc = 91 / 10_002;
    const ss = 41 / 8_002;
    const variance = (sc * (1 - sc)) / 10_000 + (ss * (1 - ss)) / 8_000;
    const half = mixtureHalfWidth(variance, 18_000, DEFAULT_GATES.tuningUsers, DEFAULT_GATES.alpha);
    expect(first.candidate).toBeCloseTo(rc, 15);
    expect(first.stable).toBeCloseTo(rs, 15);
    expect(first.threshold).toBeCloseTo(rs + DEFAULT_GATES.errorRateMargin, 15);
    expect(first.interval![0]).toBeCloseTo(rc - rs - half, 12);
    expect(first.interval![1]).toBeCloseTo(rc - rs + half, 12);
    expect(first.samples).toEqual({ candidate: 10_000, stable: 8_000 });
    expect(first).toMatchObject({
      verdict: "pass",
      note: "error rate within 0.01 of stable's with confidence",
    });
  });

  it("passes when the upper end is at the margin, and is inconclusive just above it", () => {
    const [lo, hi] = evaluate().interval!;
    const at = (errorRateMargin: number) =>
      gate(
        evaluateGates({ ...base(), config: { ...DEFAULT_GATES, errorRateMargin } }),
        "error_rate",
      );
    expect(at(hi).verdict).toBe("pass");
    expect(at(hi * (1 - 1e-9)).verdict).toBe("inconclusive");
    expect(at(hi * (1 - 1e-9)).note).toBe("interval still spans the margin");
    // fails only when the lower end is strictly above the margin
    expect(lo).toBeGreaterThan(0);
    expect(at(lo).verdict).toBe("inconclusive");
    const failed = at(lo * (1 - 1e-9));
    expect(failed.verdict).toBe("fail");
    expect(failed.note).toBe(
      `error rate above stable's by more than ${lo * (1 - 1e-9)} with confidence`,
    );
  });

  it("is inconclusive without impressions in an arm, and smooths zero errors on both sides", () => {
    const none = gate(evaluateGates(gateInput({ candidate: serving(0, 0) })), "error_rate");
    expect(none).toMatchObject({
      verdict: "inconclusive",
      candidate: null,
      stable: 10 / 10_000,
      threshold: null,
      interval: null,
      note: "no impressions in one arm yet",
    });
    const noStable = gate(evaluateGates(gateInput({ stable: serving(0, 0) })), "error_rate");
    expect(noStable).toMatchObject({
      candidate: 10 / 10_000,
      stable: null,
      verdict: "inconclusive",
    });
    // zero errors on both sides: the variance comes from (0 + 1) / (n + 2), not from 0
    const clean = gate(
      evaluateGates(gateInput({ candidate: serving(100, 0), stable: serving(100, 0) })),
      "error_rate",
    );
    const s = 1 / 102;
    const half = mixtureHalfWidth((2 * s * (1 - s)) / 100, 200, 10_000, 0.05);
    expect(clean.interval![1]).toBeCloseTo(half, 12);
    expect(clean.interval![0]).toBeCloseTo(-half, 12);
  });
});

describe("p99 latency gate (the candidate's share slower than the threshold, on an always-valid interval)", () => {
  const latencyTotal = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  const judge = (candidate: number[], stable: number[], config: Partial<GateConfig> = {}) =>
    gate(
      evaluateGates(
        gateInput(
          {
            candidate: serving(latencyTotal(candidate), 0, candidate),
            stable: serving(latencyTotal(stable), 0, stable),
          },
          config,
        ),
      ),
      "latency_p99",
    );
  /** The interval's half-width for `slow` of `n` candidate responses (smoothed as (slow+1)/(n+2)). */
  const halfFor = (slow: number, n: number) => {
    const p = (slow + 1) / (n + 2);
    return mixtureHalfWidth((p * (1 - p)) / n, n, DEFAULT_GATES.tuningUsers, DEFAULT_GATES.alpha);
  };
  // Stable: 5,000 responses in bucket 20, (26.9, 32] ms: its p99 is the 4,950th, interpolated on
  // the log scale within the bucket, 2^(19/4) · 2^((4950/5000)/4) = 31.9 ms. The candidate is held
  // to 31.9 × 1.25 + 5 = 44.9 ms, whose nearest bucket bound is 2^(22/4) = 45.3 ms (4·log2 44.9 =
  // 21.97): the gate counts the candidate's responses in buckets 23 and up.
  const stable = latencies({ 20: 5_000 });
  const stableP99 = 2 ** (19 / 4) * 2 ** (4_950 / 5_000 / 4);

  it("fails a candidate with 3 % of its responses above the threshold", () => {
    // 4,850 in bucket 20, 150 in bucket 24 (53.8, 64] ms: p99 is the 4,950th, 100 of 150 into 24
    const r = judge(latencies({ 20: 4_850, 24: 150 }), stable);
    const half = halfFor(150, 5_000);
    expect(r.stable).toBeCloseTo(stableP99, 10);
    expect(r.candidate).toBeCloseTo(2 ** (23 / 4) * 2 ** (100 / 150 / 4), 10);
    expect(r.threshold).toBeCloseTo(2 ** (22 / 4), 12);
    expect(r.interval![0]).toBeCloseTo(0.03 - half, 12);
    expect(r.interval![1]).toBeCloseTo(0.03 + half, 12);
    expect(0.03 - half).toBeGreaterThan(0.01);
    expect(r.samples).toEqual({ candidate: 5_000, stable: 5_000 });
    expect(r.verdict).toBe("fail");
    expect(r.note).toBe(
      "p99 above stable's by more than 25 % + 5 ms with confidence (3.00 % of the candidate's responses slower than 45.3 ms, stable's 0.00 %)",
    );
    // bucket 22 ends at the threshold: its responses are not slower than it
    expect(judge(latencies({ 20: 4_850, 22: 150 }), stable).verdict).toBe("pass");
  });

  it("passes a candidate as fast as stable, and one with a few responses above the threshold", () => {
    expect(judge(latencies({ 20: 5_000 }), stable)).toMatchObject({
      verdict: "pass",
      interval: [-halfFor(0, 5_000), halfFor(0, 5_000)],
      note: "p99 within 25 % + 5 ms of stable's with confidence (0.00 % of the candidate's responses slower than 45.3 ms, stable's 0.00 %)",
    });
    // 0.2 % above the threshold: the upper end stays at or below 1 %
    expect(0.002 + halfFor(10, 5_000)).toBeLessThanOrEqual(0.01);
    expect(judge(latencies({ 20: 4_990, 30: 10 }), stable).verdict).toBe("pass");
  });

  it("is inconclusive while the interval spans 1 % (too few responses to tell)", () => {
    // 600 responses, 2 % slow: above 1 %, but not with confidence yet
    expect(0.02 - halfFor(12, 600)).toBeLessThan(0.01);
    const r = judge(latencies({ 20: 588, 24: 12 }), stable);
    expect(r.verdict).toBe("inconclusive");
    expect(r.note).toMatch(/^interval still spans the 1 % a p99 allows \(2\.00 % of/);
  });

  it("takes the threshold from stable's p99, margin and slack", () => {
    // No margin and no slack: the threshold is the bucket bound nearest stable's p99 (2^(20/4) =
    // 32 ms), and the candidate's 1.5 % in bucket 21 are above it.
    const candidate = latencies({ 20: 4_925, 21: 75 });
    const strict = judge(candidate, stable, { latencyP99MarginPct: 0, latencySlackMs: 0 });
    expect(strict.threshold).toBeCloseTo(32, 12);
    expect(strict.interval![0]).toBeCloseTo(0.015 - halfFor(75, 5_000), 12);
    // with the default 25 % + 5 ms those responses are within the threshold
    expect(judge(candidate, stable).verdict).toBe("pass");
  });

  it("waits for the minimum of timed responses in each arm", () => {
    const note = "needs 500 timed responses in each arm";
    expect(judge(latencies({ 24: 499 }), stable)).toMatchObject({
      verdict: "inconclusive",
      threshold: null,
      interval: null,
      note,
      samples: { candidate: 499, stable: 5_000 },
    });
    expect(judge(latencies({ 24: 500 }), stable).verdict).toBe("fail");
    expect(judge(latencies({ 20: 500 }), latencies({ 20: 499 }))).toMatchObject({
      verdict: "inconclusive",
      note,
    });
    expect(judge(latencies({}), stable)).toMatchObject({
      candidate: null,
      verdict: "inconclusive",
    });
  });
});

describe("click-through gate (non-inferiority on an always-valid interval)", () => {
  it("computes the interval of candidate − stable from both arms' delta-method variances, each at least the pooled per-user spread at its size", () => {
    const candidateRows = uniformRows(3000, 4, 1100);
    const stableRows = uniformRows(2500, 5, 1200);
    const candidateUsers = users(candidateRows);
    const stableUsers = users(stableRows);
    const c = ratioEstimate(candidateUsers)!;
    const s = ratioEstimate(stableUsers)!;
    const r = gate(evaluateGates(gateInput({ candidateUsers, stableUsers })), "click_through");
    // the per-user spread of y − ratio·x, two-pass over the users themselves, pooled over both arms
    const pooled =
      (2999 * residualVariance(candidateRows) + 2499 * residualVariance(stableRows)) / 5498;
    const candidateVariance = Math.max(c.variance, pooled / (3000 * 4 * 4));
    const stableVariance = Math.max(s.variance, pooled / (2500 * 5 * 5));
    // the arms' spreads differ here (clicked users are 37 % and 48 %): the floor binds for one
    expect(candidateVariance + stableVariance).toBeGreaterThan(c.variance + s.variance);
    const half = mixtureHalfWidth(candidateVariance + stableVariance, 5500, 10_000, 0.05);
    expect(r.candidate).toBeCloseTo(1100 / 12_000, 15);
    expect(r.stable).toBeCloseTo(1200 / 12_500, 15);
    expect(r.threshold).toBeCloseTo(s.ratio * 0.95, 15);
    expect(r.interval![0]).toBeCloseTo(c.ratio - s.ratio - half, 12);
    expect(r.interval![1]).toBeCloseTo(c.ratio - s.ratio + half, 12);
    expect(r.samples).toEqual({ candidate: 3000, stable: 2500 });
  });

  it("fails when the whole interval is below 0, passes above −margin, else inconclusive", () => {
    const stableUsers = uniformUsers(20_000, 5, 10_000); // CTR 0.1
    const verdict = (clickers: number, ctrMarginPct = 5) =>
      gate(
        evaluateGates(
          gateInput(
            { candidateUsers: uniformUsers(20_000, 5, clickers), stableUsers },
            { ctrMarginPct },
          ),
        ),
        "click_through",
      );
    expect(verdict(9_000)).toMatchObject({
      verdict: "fail",
      note: "click-through below stable's with confidence",
    });
    expect(verdict(10_000)).toMatchObject({
      verdict: "pass",
      note: "not worse than stable's by more than 5 % (non-inferior)",
    });
    expect(verdict(10_000, 0.5)).toMatchObject({
      verdict: "inconclusive",
      note: "interval still spans the non-inferiority margin",
    });
    // the margin scales with stable's rate: the same interval passes a wider margin
    const lo = verdict(9_700).interval![0];
    expect(lo).toBeLessThan(0);
    const pctAt = (-lo / 0.1) * 100;
    expect(verdict(9_700, pctAt * 1.001).verdict).toBe("pass");
    expect(verdict(9_700, pctAt * 0.999).verdict).toBe("inconclusive");
    // a margin whose −margin is exactly the lower end: not above it, so not a pass
    const exact = exactPercent(-lo, 0.1);
    expect((exact / 100) * 0.1).toBe(-lo);
    expect(verdict(9_700, exact).verdict).toBe("inconclusive");
  });

  it("judges nothing before ctrMinUsers exposed users per arm: 3 users without a click are no evidence", () => {
    // Seen in a test run: 3 candidate users (10 exposures, no click) against stable's 23 users at
    // 20 / 69 — the delta-method variance of the candidate is 0, and the interval alone said "fail".
    const candidateUsers = users([
      [3, 0],
      [3, 0],
      [4, 0],
    ]);
    const stableUsers = users(
      Array.from({ length: 23 }, (_, i): [number, number] => [3, i < 20 ? 1 : 0]),
    );
    const judge = (config: Partial<GateConfig>) =>
      gate(evaluateGates(gateInput({ candidateUsers, stableUsers }, config)), "click_through");
    expect(judge({ ctrMinUsers: 2, tuningUsers: 500 }).verdict).toBe("fail");
    expect(judge({ tuningUsers: 500 })).toMatchObject({
      verdict: "inconclusive",
      interval: null,
      note: "needs 30 exposed users in each arm",
      samples: { candidate: 3, stable: 23 },
    });
    // at the minimum in both arms the gate judges; one user short in either arm it waits
    const arm = (n: number) => uniformUsers(n, 5, Math.floor(n / 2));
    const at = (c: number, st: number) =>
      gate(
        evaluateGates(
          gateInput({ candidateUsers: arm(c), stableUsers: arm(st) }, { ctrMinUsers: 40 }),
        ),
        "click_through",
      ).interval;
    expect(at(40, 40)).not.toBeNull();
    expect(at(39, 40)).toBeNull();
    expect(at(40, 39)).toBeNull();
  });

  it("does not judge a thin arm worse on its own small variance: few clicks read as little spread", () => {
    // 200 stable users with 3 exposures each, clicks spread as Binomial(3, 0.3) would (179 / 600)
    const stableRows = [69, 88, 38, 5].flatMap((count, clicks) =>
      Array.from({ length: count }, (): [number, number] => [3, clicks]),
    );
    // 10 candidate users, 2 clicks in 30 exposures
    const thinRows = Array.from({ length: 10 }, (_, i): [number, number] => [3, i < 2 ? 1 : 0]);
    const stableUsers = users(stableRows);
    const judge = (candidateUsers: ArmUsers) =>
      gate(
        evaluateGates(
          gateInput({ candidateUsers, stableUsers }, { ctrMinUsers: 10, tuningUsers: 500 }),
        ),
        "click_through",
      );
    // the thin arm's own variance is a third of the pooled spread's, and alone it put the whole
    // interval below 0
    const diff = 2 / 30 - 179 / 600;
    const stableVariance = ratioEstimate(stableUsers)!.variance;
    const own = ratioEstimate(users(thinRows))!.variance + stableVariance;
    expect(diff + mixtureHalfWidth(own, 210, 500, 0.05)).toBeLessThan(0);
    const thin = judge(users(thinRows));
    expect(thin.verdict).toBe("inconclusive");
    // the interval uses the pooled spread at the arm's size
    const pooled = (9 * residualVariance(thinRows) + 199 * residualVariance(stableRows)) / 208;
    const variance = pooled / (10 * 9) + Math.max(stableVariance, pooled / (200 * 9));
    expect(thin.interval![1]).toBeCloseTo(diff + mixtureHalfWidth(variance, 210, 500, 0.05), 12);
    expect(thin.interval![1]).toBeGreaterThan(0);
    // 20 candidate users without a single click are worse with confidence
    const silent = users(Array.from({ length: 20 }, (): [number, number] => [3, 0]));
    expect(judge(silent).verdict).toBe("fail");
  });

  it("needs 2 exposed users per arm; a zero variance is floored, not a certainty", () => {
    const one = gate(
      evaluateGates(gateInput({ candidateUsers: uniformUsers(1, 5, 1) })),
      "click_through",
    );
    expect(one).toMatchObject({
      verdict: "inconclusive",
      candidate: null,
      stable: 0.1,
      interval: null,
      threshold: null,
      note: "needs 30 exposed users in each arm",
    });
    const oneStable = gate(
      evaluateGates(gateInput({ stableUsers: uniformUsers(1, 5, 0) })),
      "click_through",
    );
    expect(oneStable).toMatchObject({ candidate: 0.1, stable: null });
    const noClicks = gate(
      evaluateGates(
        gateInput({ candidateUsers: uniformUsers(50, 2, 0), stableUsers: uniformUsers(50, 2, 0) }),
      ),
      "click_through",
    );
    const half = mixtureHalfWidth(1e-12, 100, 10_000, 0.05);
    expect(noClicks.interval![1]).toBeCloseTo(half, 15);
    expect(noClicks.interval![0]).toBeCloseTo(-half, 15);
    expect(noClicks.verdict).toBe("inconclusive"); // margin 5 % of 0 is 0: lower end not above it
  });

  it("evaluates the three gates in a fixed order", () => {
    expect(evaluateGates(gateInput()).map((r) => r.gate)).toEqual([
      "error_rate",
      "latency_p99",
      "click_through",
    ]);
  });
});

describe("manual actions", () => {
  it("are allowed exactly from the statuses ACTION_FROM lists, and refused with a readable reason", () => {
    expect(ACTION_FROM).toEqual({
      promote: ["progressing", "paused"],
      promote_full: ["pending", "progressing", "paused"],
      pause: ["pending", "progressing"],
      resume: ["paused"],
      abort: ["pending", "progressing", "paused"],
      rollback: ["pending", "progressing", "paused"],
      undo: ["promoted"],
    });
    for (const action of MANUAL_ACTIONS)
      for (const status of ROLLOUT_STATUSES) {
        const t = manualTransition({ status, step: 0, stageCount: 3 }, action);
        expect("refused" in t, `${action} from ${status}`).toBe(
          !ACTION_FROM[action].includes(status),
        );
      }
    expect(
      manualTransition({ status: "rolled_back", step: 1, stageCount: 3 }, "promote_full"),
    ).toEqual({
      refused: "cannot promote-full a rollout that is rolled back",
    });
    expect(manualTransition({ status: "promoted", step: 2, stageCount: 3 }, "pause")).toEqual({
      refused: "cannot pause a rollout that is promoted",
    });
  });

  it("a rollout holds its model name while pending, progressing or paused", () => {
    expect(ACTIVE_STATUSES).toEqual(["pending", "progressing", "paused"]);
  });

  it("promote moves to the next stage, and from the last one promotes", () => {
    expect(manualTransition({ status: "progressing", step: 0, stageCount: 3 }, "promote")).toEqual({
      to: "progressing",
      step: 1,
      newStage: true,
    });
    expect(manualTransition({ status: "paused", step: 1, stageCount: 3 }, "promote")).toEqual({
      to: "progressing",
      step: 2,
      newStage: true,
    });
    expect(manualTransition({ status: "progressing", step: 2, stageCount: 3 }, "promote")).toEqual({
      to: "promoted",
    });
  });

  it("resume starts the first stage of a rollout paused before it, else keeps the stage", () => {
    expect(manualTransition({ status: "paused", step: -1, stageCount: 3 }, "resume")).toEqual({
      to: "progressing",
      step: 0,
      newStage: true,
    });
    expect(manualTransition({ status: "paused", step: 1, stageCount: 3 }, "resume")).toEqual({
      to: "progressing",
      step: 1,
      newStage: false,
    });
    expect(manualTransition({ status: "paused", step: 0, stageCount: 3 }, "resume")).toEqual({
      to: "progressing",
      step: 0,
      newStage: false,
    });
  });

  it("the other actions", () => {
    const at = { status: "progressing" as const, step: 0, stageCount: 3 };
    expect(manualTransition(at, "promote_full")).toEqual({ to: "promoted" });
    expect(manualTransition(at, "pause")).toEqual({ to: "paused" });
    expect(manualTransition(at, "abort")).toEqual({ to: "aborted" });
    expect(manualTransition(at, "rollback")).toEqual({ to: "rolled_back" });
    expect(manualTransition({ status: "promoted", step: 2, stageCount: 3 }, "undo")).toEqual({
      to: "rolled_back",
      undo: true,
    });
  });
});

describe("the stage decision", () => {
  const stage = { trafficPct: 50, minDurationS: 600, minUsersPerArm: 1000 };
  const progress = (overrides: Partial<StageProgress> = {}): StageProgress => ({
    stage,
    elapsedMs: 600_000,
    users: { candidate: 1000, stable: 1000 },
    inconclusiveCount: 0,
    maxInconclusive: 3,
    ctrProofFromPct: 50,
    isLastStage: false,
    ...overrides,
  });
  const result = (
    name: GateResult["gate"],
    verdict: GateResult["verdict"],
    note = "n",
  ): GateResult => ({
    gate: name,
    verdict,
    candidate: null,
    stable: null,
    threshold: null,
    interval: null,
    samples: { candidate: 0, stable: 0 },
    note,
  });
  const allPass = [
    result("error_rate", "pass"),
    result("latency_p99", "pass"),
    result("click_through", "pass"),
  ];

  it("what the stage still lacks: time to the second, users per arm, stable's only below 100 %", () => {
    expect(stageMissing(progress())).toEqual({ time: null, users: [] });
    expect(stageMissing(progress({ elapsedMs: 599_001 }))).toEqual({
      time: "1 s of 600 s left",
      users: [],
    });
    expect(stageMissing(progress({ elapsedMs: 0 })).time).toBe("600 s of 600 s left");
    expect(stageMissing(progress({ users: { candidate: 999, stable: 999 } })).users).toEqual([
      "candidate users 999/1000",
      "stable users 999/1000",
    ]);
    const full = { ...stage, trafficPct: 100 };
    expect(
      stageMissing(progress({ stage: full, users: { candidate: 1000, stable: 0 } })).users,
    ).toEqual([]);
    expect(
      stageMissing(progress({ stage: full, users: { candidate: 5, stable: 0 } })).users,
    ).toEqual(["candidate users 5/1000"]);
  });

  it("any failed gate rolls back at once, even before the minimum time, naming every failure", () => {
    const d = decide(progress({ elapsedMs: 1_000 }), [
      result("error_rate", "fail", "too many errors"),
      result("latency_p99", "pass"),
      result("click_through", "fail", "worse"),
    ]);
    expect(d).toEqual({
      kind: "rollback",
      reason: "gate failed: error_rate (too many errors); click_through (worse)",
    });
  });

  it("waits before the minimum time; after it advances, or promotes from the last stage", () => {
    expect(decide(progress({ elapsedMs: 599_999 }), allPass)).toEqual({
      kind: "wait",
      reason: "stage minimum time: 1 s of 600 s left",
    });
    expect(decide(progress(), allPass)).toEqual({ kind: "advance", reason: "every gate passed" });
    expect(decide(progress({ isLastStage: true }), allPass)).toEqual({
      kind: "promote",
      reason: "every gate passed in the last stage",
    });
  });

  it("open gates and missing users are inconclusive until the limit, and one past it pauses", () => {
    const open = [
      result("error_rate", "pass"),
      result("latency_p99", "inconclusive"),
      result("click_through", "pass"),
    ];
    expect(decide(progress(), open)).toEqual({
      kind: "inconclusive",
      reason: "latency_p99 inconclusive",
    });
    expect(decide(progress({ users: { candidate: 10, stable: 1000 } }), allPass)).toEqual({
      kind: "inconclusive",
      reason: "candidate users 10/1000",
    });
    expect(decide(progress({ users: { candidate: 10, stable: 20 } }), open)).toEqual({
      kind: "inconclusive",
      reason: "candidate users 10/1000, stable users 20/1000, latency_p99 inconclusive",
    });
    expect(decide(progress({ inconclusiveCount: 2 }), open).kind).toBe("inconclusive");
    expect(decide(progress({ inconclusiveCount: 3 }), open)).toEqual({
      kind: "pause",
      reason:
        "inconclusive 4 times past the stage's minimum time (latency_p99 inconclusive); limit 3",
    });
  });

  it("an inconclusive click-through holds a stage only from ctrProofFromPct on", () => {
    const ctrOpen = [
      result("error_rate", "pass"),
      result("latency_p99", "pass"),
      result("click_through", "inconclusive"),
    ];
    const at = (trafficPct: number) =>
      decide(progress({ stage: { ...stage, trafficPct } }), ctrOpen);
    expect(at(49).kind).toBe("advance");
    expect(at(50)).toEqual({ kind: "inconclusive", reason: "click_through inconclusive" });
    // below it, other open gates still hold the stage
    const both = [
      result("error_rate", "inconclusive"),
      result("latency_p99", "pass"),
      result("click_through", "inconclusive"),
    ];
    expect(decide(progress({ stage: { ...stage, trafficPct: 5 } }), both)).toEqual({
      kind: "inconclusive",
      reason: "error_rate inconclusive",
    });
  });
});

describe("rollout routing hash", () => {
  /** SHA-256("rollout:<id>" ‖ 0x00 ‖ user), first 48 bits / 2⁴⁸ × 100: computed here with node:crypto. */
  const bucket = (id: number, user: string) =>
    (createHash("sha256").update(`rollout:${id}\u0000${user}`).digest().readUIntBE(0, 6) /
      2 ** 48) *
    100;

  it("is the documented SHA-256 bucket, and a user is a candidate strictly below the stage's share", () => {
    for (const user of ["u1", "user-42", "ü"]) {
      const b = bucket(7, user);
      expect(rolloutBucket(7, user)).toBe(b);
      expect(rolloutArm(7, user, b)).toBe("stable");
      expect(rolloutArm(7, user, b + 1e-9)).toBe("candidate");
    }
  });

  it("labels exposures with the rollout and the arm", () => {
    expect(rolloutKey(12)).toBe("rollout:12");
    expect(rolloutVariant(12, "candidate")).toBe("rollout:12:candidate");
    expect(rolloutVariant(12, "stable")).toBe("rollout:12:stable");
  });
});

describe("the rollout plan", () => {
  const candidate = { name: "ials", version: "v2" };
  const issues = (input: unknown) => {
    try {
      parseRolloutInput(input);
    } catch (error) {
      if (error instanceof RolloutValidationError) return error.issues;
      throw error;
    }
    throw new Error("expected a validation error");
  };

  it("fills stage and gate defaults field by field, and copies the default stages", () => {
    const parsed = parseRolloutInput({
      candidate,
      stages: [{ trafficPct: 10 }, { trafficPct: 100, minDurationS: 60, minUsersPerArm: 7 }],
      gates: { alpha: 0.01, maxInconclusive: 4 },
      evaluationIntervalS: 30,
    });
    expect(parsed.plan.stages).toEqual([
      { trafficPct: 10, minDurationS: 600, minUsersPerArm: 1000 },
      { trafficPct: 100, minDurationS: 60, minUsersPerArm: 7 },
    ]);
    expect(parsed.plan.gates).toEqual({ ...DEFAULT_GATES, alpha: 0.01, maxInconclusive: 4 });
    expect(parsed.plan.evaluationIntervalMs).toBe(30_000);
    const defaults = parseRolloutInput({ candidate });
    expect(defaults.plan.stages).toEqual(DEFAULT_STAGES);
    expect(defaults.plan.gates).toEqual(DEFAULT_GATES);
    defaults.plan.stages[0]!.trafficPct = 7;
    expect(DEFAULT_STAGES[0]!.trafficPct).toBe(5);
  });

  it("refuses a stage equal to the one before, names gate fields, and accepts a new version of the same model", () => {
    expect(
      issues({ candidate, stages: [{ trafficPct: 50 }, { trafficPct: 50 }, { trafficPct: 100 }] }),
    ).toEqual([
      { field: "stages[1].trafficPct", message: "must be above the previous stage's 50" },
    ]);
    expect(issues({ candidate, gates: { alpha: 0.5 } })[0]!.field).toBe("gates.alpha");
    expect(issues({ candidate, stages: [] })).toEqual([
      { field: "stages", message: "needs at least one stage" },
    ]);
    expect(issues({ candidate, evaluationIntervalS: 0 })).toEqual([
      { field: "evaluationIntervalS", message: "must be at least 1 second" },
    ]);
    expect(issues({ candidate: { name: " ", version: "v" } })).toEqual([
      { field: "candidate.name", message: "is required" },
    ]);
    expect(
      parseRolloutInput({ candidate, baseline: { name: "ials", version: "v1" } }).baseline,
    ).toEqual({
      name: "ials",
      version: "v1",
    });
    expect(
      parseRolloutInput({ candidate, baseline: { name: "knn", version: "v2" } }).baseline!.name,
    ).toBe("knn");
  });

  it("names what is wrong with a stage, a version, the interval and the reason", () => {
    const stageIssues = (stage: Record<string, unknown>) =>
      issues({ candidate, stages: [{ trafficPct: 100, ...stage }] });
    expect(stageIssues({ trafficPct: "50" })).toEqual([
      { field: "stages[0].trafficPct", message: "must be a number" },
    ]);
    expect(stageIssues({ trafficPct: 0 })[0]!.message).toBe("must be above 0");
    expect(stageIssues({ trafficPct: 100.5 })[0]!.message).toBe("must be at most 100");
    expect(stageIssues({ minDurationS: "1" })).toEqual([
      { field: "stages[0].minDurationS", message: "must be a number" },
    ]);
    expect(stageIssues({ minDurationS: 1.5 })[0]!.message).toBe(
      "must be a whole number of seconds",
    );
    expect(stageIssues({ minDurationS: -1 })[0]!.message).toBe("must not be negative");
    expect(stageIssues({ minUsersPerArm: "1" })).toEqual([
      { field: "stages[0].minUsersPerArm", message: "must be a number" },
    ]);
    expect(stageIssues({ minUsersPerArm: 1.5 })[0]!.message).toBe("must be a whole number");
    expect(stageIssues({ minUsersPerArm: -1 })[0]!.message).toBe("must not be negative");
    expect(issues({ candidate: { name: "ials", version: "  " } })).toEqual([
      { field: "candidate.version", message: "is required" },
    ]);
    expect(parseRolloutInput({ candidate: { name: " ials ", version: " v2 " } }).candidate).toEqual(
      candidate,
    );
    expect(issues({ candidate, evaluationIntervalS: 1.5 })).toEqual([
      { field: "evaluationIntervalS", message: "must be a whole number of seconds" },
    ]);
    expect(parseRolloutInput({ candidate, reason: "short" }).reason).toBe("short");
    expect(issues({ candidate, reason: "r".repeat(2001) })[0]!.field).toBe("reason");
    expect(issues({ candidate, baseline: candidate })).toEqual([
      { field: "candidate", message: "the candidate must differ from the baseline" },
    ]);
  });

  it("accepts http and https webhooks up to 2,048 characters", () => {
    expect(parseRolloutInput({ candidate, webhookUrl: "http://hooks.test/a" }).webhookUrl).toBe(
      "http://hooks.test/a",
    );
    const long = `https://hooks.test/${"a".repeat(2048 - 19)}`;
    expect(long).toHaveLength(2048);
    expect(parseRolloutInput({ candidate, webhookUrl: long }).webhookUrl).toBe(long);
    expect(issues({ candidate, webhookUrl: `${long}a` })).toEqual([
      { field: "webhookUrl", message: "must be at most 2048 characters" },
    ]);
    expect(issues({ candidate, webhookUrl: "not a url" })).toEqual([
      { field: "webhookUrl", message: "must be an http:// or https:// URL without credentials" },
    ]);
    expect(issues({ candidate, webhookUrl: "https://user@hooks.test/" })[0]!.field).toBe(
      "webhookUrl",
    );
  });
});
