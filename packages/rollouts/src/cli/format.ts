/** Plain-text rendering of rollouts for the terminal (`--json` prints the api's answer instead). */
import type { GateResult } from "../gates.ts";
import type { EvaluationJson, RolloutDetailJson, RolloutJson } from "./api.ts";

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const count = new Intl.NumberFormat("en-US").format;
const time = (iso: string | null) => (iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "–");
export const label = (v: { name: string; version: string } | null) =>
  v ? `${v.name}@${v.version}` : "–";

/** "stage 2/3 at 50 %", "before stage 1", "promoted (100 %)". */
export function stageLabel(r: RolloutJson): string {
  const n = r.stages.length;
  if (r.status === "promoted") return `promoted (100 %)`;
  if (r.step < 0) return `stage 0/${n} (not started)`;
  const stage = r.stages[r.step];
  return `stage ${r.step + 1}/${n} at ${stage?.trafficPct ?? "?"} %`;
}

/** Users per arm at the last evaluation (the click-through gate counts exposed users). */
export function usersOf(evaluation: EvaluationJson | undefined) {
  const ctr = evaluation?.gates.find((gate) => gate.gate === "click_through");
  return ctr ? ctr.samples : null;
}

function gateValue(gate: GateResult["gate"], value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "–";
  if (gate === "latency_p99") return `${value.toFixed(1)} ms`;
  return `${(value * 100).toFixed(gate === "error_rate" ? 3 : 2)} %`;
}

function gateInterval(gate: GateResult): string {
  if (!gate.interval) return "";
  if (gate.gate === "latency_p99") {
    // the candidate's share of responses slower than the threshold (held to 1 %)
    const pct = (x: number) => (x * 100).toFixed(2);
    return `  slower than the threshold [${pct(gate.interval[0])}, ${pct(gate.interval[1])}] %`;
  }
  const pp = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}`;
  return `  interval [${pp(gate.interval[0])}, ${pp(gate.interval[1])}] pp`;
}

export function formatGate(gate: GateResult): string {
  const bound = gate.gate === "click_through" ? "≥" : "≤";
  return (
    `  ${gate.gate.padEnd(14)} ${gate.verdict.padEnd(13)}` +
    `candidate ${gateValue(gate.gate, gate.candidate).padEnd(10)} ` +
    `stable ${gateValue(gate.gate, gate.stable).padEnd(10)} ` +
    `threshold ${bound} ${gateValue(gate.gate, gate.threshold)}${gateInterval(gate)}  (${gate.note})`
  );
}

/** What `status <id>` prints: stage, traffic, elapsed, users per arm, gates, the last audit entries. */
export function formatStatus(r: RolloutDetailJson, auditEntries = 8): string {
  const stage = r.step >= 0 ? r.stages[r.step] : undefined;
  const last = r.evaluations.at(-1);
  const users = usersOf(last);
  const lines = [
    `rollout ${r.id}  ${label(r.candidate)} against ${label(r.baseline)}  ${r.status}  (version ${r.version})`,
    `${stageLabel(r)}; the candidate serves ${r.trafficPct} % of users`,
    `stages ${r.stages.map((s) => `${s.trafficPct} %`).join(" → ")}; evaluated every ${formatDuration(r.evaluationIntervalMs)}`,
  ];
  if (stage) {
    lines.push(
      `elapsed ${formatDuration(r.stageElapsedMs)} of at least ${formatDuration(stage.minDurationS * 1000)}` +
        (r.status === "paused" ? " (clock stopped while paused)" : ""),
    );
    lines.push(
      users
        ? `users candidate ${count(users.candidate)} / ${count(stage.minUsersPerArm)}, stable ${count(users.stable)}${stage.trafficPct < 100 ? ` / ${count(stage.minUsersPerArm)}` : ""}`
        : `users: not evaluated yet (at least ${count(stage.minUsersPerArm)} per arm needed)`,
    );
    lines.push(`inconclusive evaluations ${r.inconclusiveCount} / ${r.gates.maxInconclusive}`);
  }
  if (last) {
    lines.push(`gates at ${time(last.at)} (${last.verdict}):`);
    for (const gate of last.gates) lines.push(formatGate(gate));
  } else lines.push("gates: no evaluation yet");
  lines.push(`started by ${r.createdBy} at ${time(r.createdAt)}; updated ${time(r.updatedAt)}`);
  if (r.actions.length)
    lines.push(`actions now: ${r.actions.map((a) => a.replace("_", "-")).join(", ")}`);
  const events = r.events.slice(-auditEntries);
  lines.push(`audit (last ${events.length} of ${r.events.length}):`);
  for (const e of events)
    lines.push(
      `  ${time(e.at)}  ${e.action.padEnd(12)} ${(e.fromStatus || "–").padEnd(11)} → ${e.toStatus.padEnd(11)} ${e.actor}  ${e.reason}`,
    );
  return lines.join("\n");
}

export function formatList(rollouts: RolloutJson[]): string {
  if (!rollouts.length) return "no rollouts";
  const rows = rollouts.map((r) => [
    String(r.id),
    r.modelName,
    `${label(r.candidate)} vs ${label(r.baseline)}`,
    r.status,
    stageLabel(r),
    r.createdBy,
    time(r.updatedAt),
  ]);
  const header = [
    "id",
    "model",
    "candidate vs baseline",
    "status",
    "stage",
    "started by",
    "updated",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
