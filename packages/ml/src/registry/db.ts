/**
 * Database rows of the registry: a training run (params, status, log, timings) and, on success,
 * a model version in stage `candidate` pointing at the immutable artifact directory.
 * Functions take the Prisma client so the caller (CLI, api) owns the connection; the version row
 * is written through @reco/db's ModelVersionStore, the one owner of `model_versions`.
 */
import { ModelVersionStore, type Prisma, type PrismaClient } from "@reco/db";
import type { ArtifactMetadata } from "./metadata.ts";

/** Training runs only need their table; a PrismaClient or a transaction client fits. */
export type RegistryDb = Pick<PrismaClient, "trainingRun">;

const json = (value: unknown): Prisma.InputJsonValue => JSON.parse(JSON.stringify(value ?? {}));

export interface TrainingRunStart {
  modelName: string;
  kind: string;
  params: Record<string, unknown>;
  dataRange?: Record<string, unknown>;
}

export async function startTrainingRun(db: RegistryDb, run: TrainingRunStart): Promise<number> {
  const row = await db.trainingRun.create({
    data: {
      modelName: run.modelName,
      kind: run.kind,
      params: json(run.params),
      dataRange: json(run.dataRange),
      status: "running",
      startedAt: new Date(),
    },
  });
  return row.id;
}

export interface TrainingRunEnd {
  status: "succeeded" | "failed";
  log: string;
  error?: string;
  /** phase → milliseconds (load, fit, evaluate, export, …) */
  timings: Record<string, number>;
  modelVersionId?: number;
  /** the resolved hyper-parameters (defaults filled in), once known */
  params?: Record<string, unknown>;
}

export async function finishTrainingRun(
  db: RegistryDb,
  runId: number,
  end: TrainingRunEnd,
): Promise<void> {
  await db.trainingRun.update({
    where: { id: runId },
    data: {
      status: end.status,
      log: end.log,
      error: end.error ?? null,
      timings: json(end.timings),
      finishedAt: new Date(),
      modelVersionId: end.modelVersionId ?? null,
      ...(end.params ? { params: json(end.params) } : {}),
    },
  });
}

/** The version row, recorded by the model-version store in stage `candidate` (promotion happens through rollouts). */
export async function recordModelVersion(
  db: PrismaClient,
  dir: string,
  m: ArtifactMetadata,
): Promise<number> {
  return new ModelVersionStore(db).record({
    name: m.name,
    version: m.version,
    kind: m.algorithm,
    artifactPath: dir,
    checksum: m.files["model.onnx"]!.sha256,
    hyperparams: json(m.hyperparameters),
    offlineMetrics: json(m.metrics),
    dataRange: json(m.data),
    createdAt: new Date(m.createdAt),
  });
}
