/**
 * The one owner of the `model_versions` table: serving (the newest stable version), the registry
 * (recording a trained version), experiments (which ids exist), the dashboard (summaries with
 * metrics and training run) and every stage change (manual, demo, rollout controller) go through
 * {@link ModelVersionStore}. Nothing else queries `prisma.modelVersion`.
 */
import { AppError } from "@reco/contracts";
import {
  RolloutStatus,
  type ModelStage,
  type Prisma,
  type PrismaClient,
} from "../generated/prisma/client.ts";

/** A client or a caller's interactive transaction: every store method can run inside one. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/** What serving needs to load a version, plus its id. */
export interface ModelVersionRef {
  id: number;
  name: string;
  version: string;
  artifactPath: string;
}

export type ModelVersionWithStage = ModelVersionRef & { stage: ModelStage };

/** A version is named by model name and version, or by id. */
export type ModelVersionKey = { name: string; version: string } | { id: number };

/** Who changes a stage and why; `rolloutId` when the rollout controller changes its own candidate. */
export interface StageChange {
  /** e.g. "key:abc12" (an API key's prefix), "demo", "rollout:7" */
  by: string;
  reason: string;
  rolloutId?: number;
}

/** The columns of a newly trained version; it is recorded in stage `candidate`. */
export interface NewModelVersion {
  name: string;
  version: string;
  /** the algorithm (ials, item-knn, …) */
  kind: string;
  artifactPath: string;
  checksum: string;
  hyperparams?: Prisma.InputJsonValue;
  offlineMetrics?: Prisma.InputJsonValue;
  dataRange?: Prisma.InputJsonValue;
  /** defaults to now */
  createdAt?: Date;
}

const describeKey = (key: ModelVersionKey): string =>
  "id" in key ? `model version ${key.id}` : `model ${key.name} version ${key.version}`;

export class ModelVersionNotFound extends AppError {
  constructor(key: ModelVersionKey) {
    super(
      "NOT_FOUND",
      `${describeKey(key)} is not registered`,
      "id" in key ? { id: key.id } : { name: key.name, version: key.version },
    );
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

/** Rollout statuses that are over; every other one (pending, progressing, paused) is active. */
const FINISHED_ROLLOUT: readonly RolloutStatus[] = ["promoted", "rolled_back", "aborted"];
const ACTIVE_ROLLOUT = Object.values(RolloutStatus).filter((s) => !FINISHED_ROLLOUT.includes(s));

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

const refSelect = { id: true, name: true, version: true, artifactPath: true } as const;
const withStageSelect = { ...refSelect, stage: true } as const;

const whereKey = (key: ModelVersionKey): Prisma.ModelVersionWhereUniqueInput =>
  "id" in key ? { id: key.id } : { name_version: { name: key.name, version: key.version } };

/**
 * Owns `model_versions`. Every method takes an optional `db` (a caller's transaction) and otherwise
 * uses the client it was built with.
 */
export class ModelVersionStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * The version `/recommend` serves outside experiments and rollouts: the stable version whose
   * stage changed last (ties: the highest id). Null when none is stable.
   */
  async servingVersion(db: DbClient = this.prisma): Promise<ModelVersionRef | null> {
    return db.modelVersion.findFirst({
      where: { stage: "stable" },
      orderBy: [{ stageChangedAt: "desc" }, { id: "desc" }],
      select: refSelect,
    });
  }

  /** One version by model name and version; null when not registered. */
  async find(
    name: string,
    version: string,
    db: DbClient = this.prisma,
  ): Promise<ModelVersionWithStage | null> {
    return db.modelVersion.findUnique({
      where: { name_version: { name, version } },
      select: withStageSelect,
    });
  }

  /** One version by id; null when not registered. */
  async byId(id: number, db: DbClient = this.prisma): Promise<ModelVersionWithStage | null> {
    return db.modelVersion.findUnique({ where: { id }, select: withStageSelect });
  }

  /** The ids among `ids` that are registered (each once, in no particular order). */
  async existing(ids: number[], db: DbClient = this.prisma): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await db.modelVersion.findMany({
      where: { id: { in: [...new Set(ids)] } },
      select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  async countByStage(stage: ModelStage, db: DbClient = this.prisma): Promise<number> {
    return db.modelVersion.count({ where: { stage } });
  }

  /** Newest first (created time, then id), optionally one model name or one stage. */
  async list(filter: { name?: string; stage?: ModelStage } = {}): Promise<ModelVersionSummary[]> {
    const [rows, serving] = await Promise.all([
      this.prisma.modelVersion.findMany({
        where: { name: filter.name, stage: filter.stage },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        include: versionInclude,
      }),
      this.servingVersion(),
    ]);
    return rows.map((row) => summarise(row, serving?.id ?? null));
  }

  async get(name: string, version: string): Promise<ModelVersionSummary> {
    const [row, serving] = await Promise.all([
      this.prisma.modelVersion.findUnique({
        where: { name_version: { name, version } },
        include: versionInclude,
      }),
      this.servingVersion(),
    ]);
    if (!row) throw new ModelVersionNotFound({ name, version });
    return summarise(row, serving?.id ?? null);
  }

  /**
   * Records a newly trained version in stage `candidate` and returns its id. A second row for the
   * same name and version is refused by the unique constraint (the registry is immutable).
   */
  async record(data: NewModelVersion, db: DbClient = this.prisma): Promise<number> {
    const row = await db.modelVersion.create({
      data: { ...data, stage: "candidate" },
      select: { id: true },
    });
    return row.id;
  }

  /**
   * The only way a stage changes; stamps stageChangedAt. Nothing else changes: making a version
   * stable retires no other version, but the stable version stamped last is the one that serves, so
   * setting an older version stable again rolls back to it.
   *
   * Refuses (CONFLICT, naming the rollout) a version that is the candidate of an active rollout
   * (pending, progressing or paused): the rollout controller owns its stage, and passes its own
   * rollout's id as `change.rolloutId` to change it. NOT_FOUND for an unknown version.
   *
   * `change.by` (who) and `change.reason` (why) are required but not stored here: there is no
   * model-stage audit table. Callers that keep an audit trail (the rollout controller's events)
   * record them there; the models tRPC procedure passes the API key's prefix and the engineer's
   * reason.
   *
   * The version row is locked (`FOR UPDATE`) before the rollout check, so a rollout being created
   * for it at the same moment (its foreign key takes a share lock on the row) either commits first
   * and is seen, or waits for this change. Runs in `db` when it is a caller's transaction (rolled
   * back with it), else in a transaction of its own.
   */
  async setStage(
    key: ModelVersionKey,
    stage: ModelStage,
    change: StageChange,
    db: DbClient = this.prisma,
  ): Promise<ModelVersionWithStage> {
    const work = async (tx: Prisma.TransactionClient): Promise<ModelVersionWithStage> => {
      const row = await tx.modelVersion.findUnique({ where: whereKey(key), select: refSelect });
      if (!row) throw new ModelVersionNotFound(key);
      await tx.$queryRaw`SELECT id FROM model_versions WHERE id = ${row.id} FOR UPDATE`;
      // any active rollout of this candidate other than the one making the change
      const rollout = await tx.rollout.findFirst({
        where: {
          candidateVersionId: row.id,
          status: { in: ACTIVE_ROLLOUT },
          ...(change.rolloutId === undefined ? {} : { id: { not: change.rolloutId } }),
        },
        orderBy: { id: "asc" },
        select: { id: true, status: true },
      });
      if (rollout) {
        throw new AppError(
          "CONFLICT",
          `model ${row.name} version ${row.version} is the candidate of rollout ${rollout.id} (${rollout.status}); change it through the rollout`,
          { rolloutId: rollout.id },
        );
      }
      return tx.modelVersion.update({
        where: { id: row.id },
        data: { stage, stageChangedAt: new Date() },
        select: withStageSelect,
      });
    };
    // a transaction client has no $connect (Prisma's interactive-transaction deny list); it still
    // has $transaction, but nesting would need savepoints, which the PGlite adapter lacks
    return "$connect" in db ? db.$transaction(work) : work(db);
  }
}
