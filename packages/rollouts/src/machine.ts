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

/** What the stage still lacks before it may pass: its minimum running time and users per arm. */
export function stageMissing(progress: StageProgress): { time: string | null; users: string[] } {
  const { stage } = progress;
  const remainingMs = stage.minDurationS * 1000 - progress.elapsedMs;
  const users: string[] = [];
  if (progress.users.candidate < stage.minUsersPerArm)
    users.push(`candidate users ${progress.users.candidate}/${stage.minUsersPerArm}`);
  if (stage.trafficPct < 100 && progress.users.stable < stage.minUsersPerArm)
    users.push(`stable users ${progress.users.stable}/${stage.minUsersPerArm}`);
  return {
    time:
      remainingMs > 0 ? `${Math.ceil(remainingMs / 1000)} s of ${stage.minDurationS} s left` : null,
    users,
  };
}

/**
 * The controller's judgement of one evaluation: any failed gate rolls back at once (a failure
 * needs no minimum: the always-valid intervals already guard it). Before the stage's minimum
 * time nothing else is decided. After it, the stage passes when it has its users and every gate
 * passes; otherwise the evaluation is inconclusive (too few users counts too), and one past the
 * limit pauses the rollout, so thin traffic never promotes by waiting.
 */
export function decide(progress: StageProgress, gates: readonly GateResult[]): Decision {
  const failed = gates.filter((gate) => gate.verdict === "fail");
  if (failed.length)
    return {
      kind: "rollback",
      reason: `gate failed: ${failed.map((gate) => `${gate.gate} (${gate.note})`).join("; ")}`,
    };
  const missing = stageMissing(progress);
  if (missing.time) return { kind: "wait", reason: `stage minimum time: ${missing.time}` };
  const ctrOptional = progress.stage.trafficPct < progress.ctrProofFromPct;
  const open = gates.filter(
    (gate) => gate.verdict !== "pass" && !(ctrOptional && gate.gate === "click_through"),
  );
  if (!open.length && !missing.users.length)
    return progress.isLastStage
      ? { kind: "promote", reason: "every gate passed in the last stage" }
      : { kind: "advance", reason: "every gate passed" };
  const what = [...missing.users, ...open.map((gate) => `${gate.gate} inconclusive`)].join(", ");
  if (progress.inconclusiveCount + 1 > progress.maxInconclusive)
    return {
      kind: "pause",
      reason: `inconclusive ${progress.inconclusiveCount + 1} times past the stage's minimum time (${what}); limit ${progress.maxInconclusive}`,
    };
  return { kind: "inconclusive", reason: what };
}
