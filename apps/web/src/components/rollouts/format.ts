/** Display helpers for rollouts: stage labels, durations, gate values. */
import { formatPct, formatSignedPct } from "../../format.ts";
import type { GateResult, RolloutEvaluation, RolloutSummary } from "./types.ts";

export const versionLabel = (v: { name: string; version: string } | null) =>
  v ? `${v.name} ${v.version}` : "–";

/** "stage 2/3 at 50 %", "not started (0/3)", "promoted (100 %)", "aborted". */
export function stageLabel(r: Pick<RolloutSummary, "status" | "step" | "stages">): string {
  const n = r.stages.length;
  if (r.status === "promoted") return "promoted (100 %)";
  if (r.step < 0) return `not started (0/${n})`;
  const stage = `stage ${r.step + 1}/${n} at ${r.stages[r.step]?.trafficPct ?? "?"} %`;
  return r.status === "progressing" || r.status === "paused" ? stage : `${stage}, then ${r.status}`;
}

/** 65_000 → "1 min 5 s". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const ACTION_LABELS: Record<string, string> = {
  promote: "Promote",
  promote_full: "Promote to 100 %",
  pause: "Pause",
  resume: "Resume",
  abort: "Abort",
  rollback: "Roll back",
  undo: "Undo",
};

export const GATE_LABELS: Record<string, string> = {
  error_rate: "Error rate",
  latency_p99: "p99 latency",
  click_through: "Click-through",
};

export function gateValue(gate: GateResult["gate"], value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "–";
  if (gate === "latency_p99") return `${value.toFixed(1)} ms`;
  return `${(value * 100).toFixed(gate === "error_rate" ? 3 : 2)} %`;
}

/**
 * The gate's always-valid interval: of candidate − stable (click-through, error rate), or of the
 * candidate's share of responses slower than the threshold (p99 latency, held to 1 %).
 */
export function gateInterval(gate: Pick<GateResult, "gate" | "interval">): string {
  if (!gate.interval) return "–";
  const [lo, hi] = gate.interval;
  if (gate.gate === "latency_p99")
    return `${formatPct(Math.max(0, lo), 2)} to ${formatPct(hi, 2)} slower than the threshold`;
  return `[${formatSignedPct(lo, 2)}, ${formatSignedPct(hi, 2)}]`;
}

/** Which side of the threshold passes: error rate and latency stay below, click-through above. */
export const gateBound = (gate: GateResult["gate"]) => (gate === "click_through" ? "≥" : "≤");

/** Users per arm at an evaluation: the click-through gate counts exposed users. */
export function usersAt(evaluation: RolloutEvaluation | undefined) {
  return evaluation?.gates.find((gate) => gate.gate === "click_through")?.samples ?? null;
}

export const formatTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC" : "–";
