import type { Prisma } from "@reco/db";
import { DEFAULT_GATES, type GateConfig, type StagePlan } from "../plan.ts";
import type { RolloutStatus } from "../machine.ts";
import type { GateResult } from "../gates.ts";

export const withParts = {
  stages: { orderBy: { position: "asc" as const } },
  candidateVersion: { select: { id: true, name: true, version: true, artifactPath: true } },
  baselineVersion: { select: { id: true, name: true, version: true, artifactPath: true } },
} satisfies Prisma.RolloutInclude;

export type RolloutRow = Prisma.RolloutGetPayload<{ include: typeof withParts }>;

export interface VersionLabel {
  id: number;
  name: string;
  version: string;
  artifactPath: string;
}

export interface RolloutEvaluationView {
  step: number;
  verdict: string;
  gates: GateResult[];
  elapsedMs: number;
  at: Date;
}

/** A rollout as procedures, the CLI and the controller see it. */
export interface RolloutView {
  id: number;
  modelName: string;
  status: RolloutStatus;
  /** Current stage position (−1 before the first stage). */
  step: number;
  /** The candidate's share now: the current stage's while progressing or paused, else 0 or 100. */
  trafficPct: number;
  version: number;
  candidate: VersionLabel;
  baseline: VersionLabel | null;
  stages: StagePlan[];
  gates: GateConfig;
  evaluationIntervalMs: number;
  stepStartedAt: Date | null;
  /** The current stage's running time (its clock stops while paused). */
  stageElapsedMs: number;
  inconclusiveCount: number;
  lastEvaluatedAt: Date | null;
  webhookUrl: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export function stageElapsedMs(
  row: Pick<RolloutRow, "status" | "stepElapsedMs" | "stepStartedAt">,
  now = Date.now(),
): number {
  const running = row.status === "progressing" && row.stepStartedAt;
  return row.stepElapsedMs + (running ? Math.max(0, now - row.stepStartedAt!.getTime()) : 0);
}

export function servingPct(row: Pick<RolloutRow, "status" | "currentStep">, stages: StagePlan[]) {
  if (row.status === "promoted") return 100;
  if ((row.status === "progressing" || row.status === "paused") && row.currentStep >= 0)
    return stages[row.currentStep]?.trafficPct ?? 0;
  return 0;
}

export function toView(row: RolloutRow, now = Date.now()): RolloutView {
  const stages = row.stages.map((stage) => ({
    trafficPct: stage.trafficPct,
    minDurationS: stage.minDurationS,
    minUsersPerArm: stage.minUsersPerArm,
  }));
  const gates = { ...DEFAULT_GATES, ...(row.gates as Partial<GateConfig>) };
  return {
    id: row.id,
    modelName: row.modelName,
    status: row.status as RolloutStatus,
    step: row.currentStep,
    trafficPct: servingPct(row, stages),
    version: row.version,
    candidate: row.candidateVersion,
    baseline: row.baselineVersion,
    stages,
    gates,
    evaluationIntervalMs: row.evaluationIntervalMs,
    stepStartedAt: row.stepStartedAt,
    stageElapsedMs: stageElapsedMs(row, now),
    inconclusiveCount: row.inconclusiveCount,
    lastEvaluatedAt: row.lastEvaluatedAt,
    webhookUrl: row.webhookUrl,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
