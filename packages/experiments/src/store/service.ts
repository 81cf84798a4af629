import { AppError, NotFound } from "@reco/contracts";
import { ModelVersionStore, type Prisma, type PrismaClient } from "@reco/db";
import type { ExperimentDefinition, ExperimentStatus } from "../definition.ts";
import { ExperimentValidationError, type FieldIssue } from "../errors.ts";
import { editExperiment, transitionExperiment, validateExperiment } from "../lifecycle.ts";
import { unlessDatabaseLost } from "./database-loss.ts";
import { assignVariant, type Assignment } from "../assignment.ts";
import { computeResults } from "../results.ts";
import type { ExperimentResults, ResultsOptions } from "../results-types.ts";
import {
  definitionColumns,
  rowToDefinition,
  rowToRecord,
  variantRows,
  withVariants,
  type ExperimentRecord,
} from "./rows.ts";
import {
  outcomeSchema,
  recordExposure,
  recordOutcome,
  requireRunning,
  variantStats,
  type ExposureRecord,
} from "./user-stats.ts";

type Tx = Prisma.TransactionClient;

/**
 * Strategies a variant may serve instead of a model version: "default" is whatever serves without
 * the experiment (the stable version), "popularity" the popularity ranking.
 */
export const KNOWN_STRATEGIES = ["default", "popularity"] as const;

/**
 * Every change runs under one transaction-scoped advisory lock, so two api processes cannot both
 * pass the namespace-overlap check and start overlapping experiments.
 */
const LOCK_ID = 7_274_101;

const TIMESTAMP_OF: Partial<Record<ExperimentStatus, "startedAt" | "stoppedAt" | "concludedAt">> = {
  running: "startedAt",
  stopped: "stoppedAt",
  concluded: "concludedAt",
};

/** Experiments as stored in PostgreSQL/PGlite: definitions, lifecycle and results. */
export class ExperimentService {
  private readonly running = new Map<string, ExperimentDefinition>();

  constructor(
    private readonly prisma: PrismaClient,
    /** The registry a variant's modelVersionId is checked against. */
    private readonly models: Pick<ModelVersionStore, "existing"> = new ModelVersionStore(prisma),
  ) {}

  async list(filter: { status?: ExperimentStatus } = {}): Promise<ExperimentRecord[]> {
    const rows = await unlessDatabaseLost(() =>
      this.prisma.experiment.findMany({
        where: filter.status ? { status: filter.status } : {},
        include: withVariants,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      }),
    );
    return rows.map(rowToRecord);
  }

  async get(key: string): Promise<ExperimentRecord> {
    return rowToRecord(await this.row(this.prisma, key));
  }

  /** Definition only, for callers that judge or assign (exposure recording, results). */
  async definition(key: string): Promise<ExperimentDefinition> {
    return rowToDefinition(await this.row(this.prisma, key));
  }

  async create(input: unknown): Promise<ExperimentRecord> {
    const status = (input as { status?: unknown } | null)?.status;
    if (status !== undefined && status !== "draft")
      throw new ExperimentValidationError([
        { field: "status", message: "experiments are created as drafts; start them afterwards" },
      ]);
    return this.locked(async (tx) => {
      const def = validateExperiment(input, await this.liveOthers(tx));
      await checkServes(this.models, tx, def);
      if (await tx.experiment.findUnique({ where: { key: def.key }, select: { id: true } }))
        throw new AppError("CONFLICT", `key: an experiment "${def.key}" already exists`, {
          issues: [{ field: "key", message: `an experiment "${def.key}" already exists` }],
        });
      const row = await tx.experiment.create({
        data: { key: def.key, ...definitionColumns(def), variants: { create: variantRows(def) } },
        include: withVariants,
      });
      return rowToRecord(row);
    });
  }

  /** Any valid change to a draft; running experiments only accept fields that move no user. */
  async edit(key: string, patch: Record<string, unknown>): Promise<ExperimentRecord> {
    return this.locked(async (tx) => {
      const current = rowToDefinition(await this.row(tx, key));
      const next = editExperiment(current, patch, await this.liveOthers(tx, key));
      await checkServes(this.models, tx, next);
      return this.save(tx, next, current.status === "draft");
    });
  }

  start(key: string): Promise<ExperimentRecord> {
    return this.transition(key, { to: "running" });
  }

  stop(key: string): Promise<ExperimentRecord> {
    return this.transition(key, { to: "stopped" });
  }

  conclude(
    key: string,
    verdict: { decision: string; decisionReason?: string },
  ): Promise<ExperimentRecord> {
    return this.transition(key, { to: "concluded", ...verdict });
  }

  /** Results from the per-user statistics recorded so far (see recordExposure / recordOutcome). */
  async results(key: string, options: ResultsOptions = {}): Promise<ExperimentResults> {
    const def = await this.definition(key);
    const stats = await unlessDatabaseLost(() => variantStats(this.prisma, def));
    return computeResults(def, stats, options);
  }

  /** Logs that `userId` saw `variant` (e.g. from reco.responses); must match the assignment. */
  async recordExposure(key: string, variant: string, userId: string): Promise<ExposureRecord> {
    const def = await this.runningDefinition(key);
    const recorded = await unlessDatabaseLost(() =>
      recordExposure(this.prisma, def, variant, userId),
    );
    return recorded ?? this.noLongerRunning(key, "exposures");
  }

  /**
   * A client showed the experiment to `userId`: assigns and logs the exposure in one step. Users
   * outside the experiment get the control experience and no exposure.
   */
  async expose(key: string, userId: string): Promise<Assignment & { exposures: number }> {
    const def = await this.runningDefinition(key);
    const assignment = assignVariant(def, userId);
    if (!assignment.inExperiment) return { ...assignment, exposures: 0 };
    const recorded = await unlessDatabaseLost(() =>
      recordExposure(this.prisma, def, assignment.variant, userId),
    );
    if (!recorded) {
      // stopped since it was cached: answer like any stopped experiment (control, nothing logged)
      this.running.delete(key);
      return { ...assignVariant(await this.definition(key), userId), exposures: 0 };
    }
    return { ...assignment, exposures: recorded.exposures };
  }

  /** A click, watch or rating of an exposed user (see user-stats.ts for attribution). */
  async recordOutcome(key: string, userId: string, outcome: unknown) {
    const parsed = outcomeSchema.safeParse(outcome);
    if (!parsed.success) throw ExperimentValidationError.fromZod(parsed.error);
    const def = await this.runningDefinition(key);
    const recorded = await unlessDatabaseLost(() =>
      recordOutcome(this.prisma, def, userId, parsed.data),
    );
    return recorded ?? this.noLongerRunning(key, "outcomes");
  }

  /**
   * Running definitions are cached: while running, nothing that decides assignment or attribution
   * can change (editExperiment refuses it), and every write re-checks the status in SQL. Drafts
   * and finished experiments are read afresh, so a start is seen at once.
   */
  private async runningDefinition(key: string): Promise<ExperimentDefinition> {
    const cached = this.running.get(key);
    if (cached) return cached;
    const def = await this.definition(key);
    if (def.status === "running") this.running.set(key, def);
    return def;
  }

  /** The write found the experiment stopped since it was cached: forget it and say so. */
  private async noLongerRunning(key: string, what: string): Promise<never> {
    this.running.delete(key);
    requireRunning(await this.definition(key), what);
    throw new AppError("CONFLICT", `experiment "${key}" is not running`);
  }

  private async transition(
    key: string,
    step: { to: "running" | "stopped" | "concluded"; decision?: string; decisionReason?: string },
  ): Promise<ExperimentRecord> {
    return this.locked(async (tx) => {
      const current = rowToDefinition(await this.row(tx, key));
      const next = transitionExperiment(current, step, await this.liveOthers(tx, key));
      if (step.to === "running") await checkServes(this.models, tx, next);
      const stamp = TIMESTAMP_OF[step.to];
      return this.save(tx, next, false, stamp ? { [stamp]: new Date() } : {});
    });
  }

  private async save(
    tx: Tx,
    def: ExperimentDefinition,
    replaceVariants: boolean,
    extra: Prisma.ExperimentUpdateInput = {},
  ): Promise<ExperimentRecord> {
    const row = await tx.experiment.update({
      where: { key: def.key },
      data: {
        ...definitionColumns(def),
        ...extra,
        ...(replaceVariants ? { variants: { deleteMany: {}, create: variantRows(def) } } : {}),
      },
      include: withVariants,
    });
    return rowToRecord(row);
  }

  private async row(db: Tx | PrismaClient, key: string) {
    const row = await unlessDatabaseLost(() =>
      db.experiment.findUnique({ where: { key }, include: withVariants }),
    );
    if (!row) throw new NotFound("experiment", key);
    return row;
  }

  /** Drafts and running experiments: the ones holding a namespace range. */
  private async liveOthers(tx: Tx, exceptKey?: string): Promise<ExperimentDefinition[]> {
    const rows = await tx.experiment.findMany({
      where: {
        status: { in: ["draft", "running"] },
        ...(exceptKey ? { key: { not: exceptKey } } : {}),
      },
      include: withVariants,
    });
    return rows.map(rowToDefinition);
  }

  private locked<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return unlessDatabaseLost(() =>
      this.prisma.$transaction(async (tx) => {
        await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(${LOCK_ID})::text AS locked`);
        return work(tx);
      }),
    );
  }
}

/** Each variant must serve something that exists: a registered model version or a known strategy. */
async function checkServes(
  models: Pick<ModelVersionStore, "existing">,
  tx: Tx,
  def: ExperimentDefinition,
): Promise<void> {
  const ids = def.variants.flatMap((v) =>
    v.modelVersionId === undefined ? [] : [v.modelVersionId],
  );
  const found = new Set(await models.existing(ids, tx));
  const issues: FieldIssue[] = [];
  def.variants.forEach((v, i) => {
    if (v.modelVersionId !== undefined && !found.has(v.modelVersionId))
      issues.push({
        field: `variants[${i}].modelVersionId`,
        message: `unknown model version ${v.modelVersionId} (not in the model registry)`,
      });
    if (v.strategy !== undefined && !(KNOWN_STRATEGIES as readonly string[]).includes(v.strategy))
      issues.push({
        field: `variants[${i}].strategy`,
        message: `unknown strategy "${v.strategy}" (known: ${KNOWN_STRATEGIES.join(", ")})`,
      });
  });
  if (issues.length > 0) throw new ExperimentValidationError(issues);
}
