/**
 * Model versions as the dashboard sees them: registry rows with their offline metrics and the
 * training run that produced them, and the manual stage change engineers make.
 */
import { AppError } from "@reco/contracts";
import type { ModelStage, Prisma, PrismaClient } from "../generated/prisma/client.ts";

export class ModelVersionNotFound extends AppError {
  constructor(name: string, version: string) {
    super("NOT_FOUND", `model ${name} version ${version} is not registered`, { name, version });
  }
}

/** Stages an engineer may set by hand; `canary` belongs to the rollout controller. */
export const MANUAL_STAGES = ["candidate", "stable", "retired"] as const;
export type ManualStage = (typeof MANUAL_STAGES)[number];

export interface TrainingRunSummary {
  id: number;
  status: "queued" | "running" | "succeeded" | "failed";
  startedAt: Date | null;
  finishedAt: Date | null;
  /** phase → milliseconds, as the trainer recorded them */
  timings: Record<string, number>;
  error: string | null;
}

export interface ModelVersionSummary {
  id: number;
  name: string;
  version: string;
  kind: string;
  stage: ModelStage;
  createdAt: Date;
  stageChangedAt: Date;
  artifactPath: string;
  checksum: string;
  /** flat offline metrics, e.g. {"ndcg@10": 0.21} */
  offlineMetrics: Record<string, number>;
  hyperparams: Record<string, unknown>;
  dataRange: Record<string, unknown>;
  /** the newest stable version: the one `/recommend` serves outside experiments and rollouts */
  serving: boolean;
  trainingRun: TrainingRunSummary | null;
}

const ACTIVE_ROLLOUT = ["pending", "canary", "paused"] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Only the finite numbers of a JSON object: a malformed entry is dropped, not shown as NaN. */
function numbers(json: unknown): Record<string, number> {
  if (!isRecord(json)) return {};
  return Object.fromEntries(
    Object.entries(json).filter((e): e is [string, number] => Number.isFinite(e[1])),
  );
}

const versionInclude = {
  trainingRuns: { orderBy: [{ createdAt: "desc" as const }, { id: "desc" as const }], take: 1 },
};

type Row = Prisma.ModelVersionGetPayload<{ include: { trainingRuns: true } }>;

function summarise(row: Row, servingId: number | null): ModelVersionSummary {
  const run = row.trainingRuns[0];
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    kind: row.kind,
    stage: row.stage,
    createdAt: row.createdAt,
    stageChangedAt: row.stageChangedAt,
    artifactPath: row.artifactPath,
    checksum: row.checksum,
    offlineMetrics: numbers(row.offlineMetrics),
    hyperparams: isRecord(row.hyperparams) ? row.hyperparams : {},
    dataRange: isRecord(row.dataRange) ? row.dataRange : {},
    serving: row.id === servingId,
    trainingRun: run
      ? {
          id: run.id,
          status: run.status,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          timings: numbers(run.timings),
          error: run.error,
        }
      : null,
  };
}

export class ModelVersionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Same choice as the serving resolver: the stable version whose stage changed last. */
  private async servingId(): Promise<number | null> {
    const row = await this.prisma.modelVersion.findFirst({
      where: { stage: "stable" },
      orderBy: [{ stageChangedAt: "desc" }, { id: "desc" }],
      select: { id: true },
    });
    return row?.id ?? null;
  }

  /** Newest first (created time, then id), optionally one model name or one stage. */
  async list(filter: { name?: string; stage?: ModelStage } = {}): Promise<ModelVersionSummary[]> {
    const [rows, servingId] = await Promise.all([
      this.prisma.modelVersion.findMany({
        where: { name: filter.name, stage: filter.stage },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        include: versionInclude,
      }),
      this.servingId(),
    ]);
    return rows.map((row) => summarise(row, servingId));
  }

  async get(name: string, version: string): Promise<ModelVersionSummary> {
    const [row, servingId] = await Promise.all([
      this.prisma.modelVersion.findUnique({
        where: { name_version: { name, version } },
        include: versionInclude,
      }),
      this.servingId(),
    ]);
    if (!row) throw new ModelVersionNotFound(name, version);
    return summarise(row, servingId);
  }

  /**
   * Sets a stage by hand and stamps stageChangedAt. Nothing else changes: making a version stable
   * retires no other version, but the stable version stamped last is the one that serves, so
   * setting an older version stable again rolls back to it. A version under an active rollout is
   * refused: the rollout controller owns its stage.
   */
  async setStage(name: string, version: string, stage: ManualStage): Promise<ModelVersionSummary> {
    await this.prisma.$transaction(async (tx) => {
      const row = await tx.modelVersion.findUnique({
        where: { name_version: { name, version } },
        select: { id: true },
      });
      if (!row) throw new ModelVersionNotFound(name, version);
      const rollout = await tx.rollout.findFirst({
        where: { candidateVersionId: row.id, status: { in: [...ACTIVE_ROLLOUT] } },
        select: { id: true, status: true },
      });
      if (rollout) {
        throw new AppError(
          "CONFLICT",
          `model ${name} version ${version} is the candidate of rollout ${rollout.id} (${rollout.status}); change it through the rollout`,
          { rolloutId: rollout.id },
        );
      }
      await tx.modelVersion.update({
        where: { id: row.id },
        data: { stage, stageChangedAt: new Date() },
      });
    });
    return this.get(name, version);
  }
}
