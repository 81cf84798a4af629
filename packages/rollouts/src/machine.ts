import type { GateResult } from "./gates.ts";
import type { StagePlan } from "./plan.ts";

export const ROLLOUT_STATUSES = [
  "pending",
  "progressing",
  "paused",
  "promoted",
  "rolled_back",
  "aborted",
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Statuses in which a rollout holds its model name and may route traffic. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ["pending", "progressing", "paused"];

export const MANUAL_ACTIONS = [
  "promote",
  "promote_full",
  "pause",
  "resume",
  "abort",
  "rollback",
  "undo",
] as const;
export type ManualAction = (typeof MANUAL_ACTIONS)[number];

/**
 * Manual actions and the statuses they start from (Argo Rollouts' promote, promote --full, pause,
 * abort and undo). `promote` moves to the next stage, or promotes from the last one.
 */
export const ACTION_FROM: Record<ManualAction, readonly RolloutStatus[]> = {
  promote: ["progressing", "paused"],
  promote_full: ["pending", "progressing", "paused"],
  pause: ["pending", "progressing"],
  resume: ["paused"],
  abort: ["pending", "progressing", "paused"],
  rollback: ["pending", "progressing", "paused"],
  undo: ["promoted"],
};

/** What a change does to the rollout row; the store applies it in one versioned write. */
export type Transition =
  | { to: "progressing"; step: number; newStage: boolean }
  | { to: "paused" }
  | { to: "promoted" }
  | { to: "rolled_back"; undo?: boolean }
  | { to: "aborted" };

export interface RolloutPosition {
  status: RolloutStatus;
  /** −1 before the first stage starts. */
  step: number;
  stageCount: number;
}

/** The transition a manual action makes, or why it is not allowed now. */
export function manualTransition(
  position: RolloutPosition,
  action: ManualAction,
): Transition | { refused: string } {
  if (!ACTION_FROM[action].includes(position.status))
    return {
      refused: `cannot ${action.replace("_", "-")} a rollout that is ${position.status.replace("_", " ")}`,
    };
  switch (action) {
    case "promote": {
      const next = position.step + 1;
      return next >= position.stageCount
        ? { to: "promoted" }
        : { to: "progressing", step: next, newStage: true };
    }
    case "promote_full":
      return { to: "promoted" };
    case "pause":
      return { to: "paused" };
    case "resume":
      return { to: "progressing", step: Math.max(0, position.step), newStage: position.step < 0 };
    case "abort":
      return { to: "aborted" };
    case "rollback":
      return { to: "rolled_back" };
    case "undo":
      return { to: "rolled_back", undo: true };
  }
}

export interface StageProgress {
  stage: StagePlan;
  /** The stage's running time (paused time excluded). */
  elapsedMs: number;
  /** Users seen so far in each arm (cumulative over the rollout). */
  users: { candidate: number; stable: number };
  inconclusiveCount: number;
  maxInconclusive: number;
  /** Below this share an inconclusive click-through gate does not hold the stage. */
  ctrProofFromPct: number;
  isLastStage: boolean;
}

export type Decision =
  | { kind: "rollback"; reason: string }
  | { kind: "advance"; reason: string }
  | { kind: "promote"; reason: string }
  | { kind: "pause"; reason: string }
  | { kind: "wait"; reason: string }
  | { kind: "inconclusive"; reason: string };

/** Whether the stage has run long enough and seen enough users to be judged for passing. */
export function stageReady(progress: StageProgress): { ready: boolean; missing: string[] } {
  const missing: string[] = [];
  const { stage } = progress;
  if (progress.elapsedMs < stage.minDurationS * 1000)
    missing.push(
      `${Math.ceil((stage.minDurationS * 1000 - progress.elapsedMs) / 1000)} s of ${stage.minDurationS} s`,
    );
  if (progress.users.candidate < stage.minUsersPerArm)
    missing.push(`candidate users ${progress.users.candidate}/${stage.minUsersPerArm}`);
  if (stage.trafficPct < 100 && progress.users.stable < stage.minUsersPerArm)
    missing.push(`stable users ${progress.users.stable}/${stage.minUsersPerArm}`);
  return { ready: missing.length === 0, missing };
}

/**
 * The controller's judgement of one evaluation: any failed gate rolls back at once (a failure
 * needs no minimum, the intervals already guard it); a stage passes when its minimums are met
 * and every gate passes; inconclusive evaluations past the limit pause the rollout.
 */
export function decide(progress: StageProgress, gates: readonly GateResult[]): Decision {
  const failed = gates.filter((gate) => gate.verdict === "fail");
  if (failed.length)
    return {
      kind: "rollback",
      reason: `gate failed: ${failed.map((gate) => `${gate.gate} (${gate.note})`).join("; ")}`,
    };
  const { ready, missing } = stageReady(progress);
  if (!ready) return { kind: "wait", reason: `stage minimums not met: ${missing.join(", ")}` };
  const ctrOptional = progress.stage.trafficPct < progress.ctrProofFromPct;
  const open = gates.filter(
    (gate) => gate.verdict !== "pass" && !(ctrOptional && gate.gate === "click_through"),
  );
  if (!open.length)
    return progress.isLastStage
      ? { kind: "promote", reason: "every gate passed in the last stage" }
      : { kind: "advance", reason: "every gate passed" };
  const names = open.map((gate) => gate.gate).join(", ");
  if (progress.inconclusiveCount + 1 > progress.maxInconclusive)
    return {
      kind: "pause",
      reason: `inconclusive ${progress.inconclusiveCount + 1} times past the stage's minimums (${names}); limit ${progress.maxInconclusive}`,
    };
  return { kind: "inconclusive", reason: `inconclusive: ${names}` };
}
