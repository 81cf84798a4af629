import { randomBytes } from "node:crypto";
import { NotFound } from "@reco/contracts";
import { ModelVersionStore, type Prisma, type PrismaClient } from "@reco/db";
import { RolloutConflict, RolloutValidationError } from "../errors.ts";
import {
  ACTIVE_STATUSES,
  manualTransition,
  type ManualAction,
  type RolloutStatus,
  type Transition,
} from "../machine.ts";
import { parseRolloutInput } from "../plan.ts";
import { rolloutKey } from "../routing.ts";
import {
  stageElapsedMs,
  toView,
  withParts,
  type RolloutEvaluationView,
  type RolloutRow,
  type RolloutView,
} from "./rows.ts";

type Tx = Prisma.TransactionClient;

/** One advisory lock serialises rollout starts, so two cannot both pass the one-per-model check. */
const START_LOCK_ID = 7_274_102;

export interface RolloutAuditEntry {
  id: number;
  fromStatus: string;
  toStatus: string;
  step: number;
  actor: string;
  action: string;
  reason: string;
  details: unknown;
  at: Date;
}

export interface RolloutDetail extends RolloutView {
  events: RolloutAuditEntry[];
  evaluations: RolloutEvaluationView[];
}

/** A transition that happened, for webhooks and logs (sent after the transaction commits). */
export interface RolloutTransitionNotice {
  rollout: RolloutView;
  from: RolloutStatus;
  to: RolloutStatus;
  step: number;
  action: string;
  actor: string;
  reason: string;
  details: Record<string, unknown>;
  webhook: { url: string; secret: string } | null;
}

export interface TransitionRequest {
  transition: Transition;
  /** The rollout version the change was decided on; another version → 409. */
  expectedVersion: number;
  actor: string;
  action: string;
  reason: string;
  /** Metric values at that moment, stored with the audit entry. */
  details?: Record<string, unknown>;
}

export interface ActionRequest {
  id: number;
  action: ManualAction;
  expectedVersion: number;
  actor: string;
  reason?: string;
}

const json = (value: unknown): Prisma.InputJsonValue => JSON.parse(JSON.stringify(value ?? {}));

/**
 * Rollouts as stored: start, read, and every change of status, each one versioned (optimistic
 * concurrency), audited with who, why and the metric values, and applied to the model versions'
 * stages through the model version store in the same transaction.
 */
export class RolloutService {
  readonly models: ModelVersionStore;
  private readonly listeners = new Set<(notice: RolloutTransitionNotice) => void>();

  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    models?: ModelVersionStore,
    /** The clock stage times are measured with (tests move it). */
    options: { now?: () => number } = {},
  ) {
    this.models = models ?? new ModelVersionStore(prisma);
    this.now = options.now ?? Date.now;
  }

  /** Called after every committed transition (webhooks, logs); never awaited. */
  onTransition(listener: (notice: RolloutTransitionNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async list(filter: { status?: RolloutStatus; modelName?: string } = {}): Promise<RolloutView[]> {
    const rows = await this.prisma.rollout.findMany({
      where: { status: filter.status, modelName: filter.modelName },
      include: withParts,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 200,
    });
    return rows.map((row) => toView(row, this.now()));
  }

  async get(id: number): Promise<RolloutView> {
    return toView(await this.row(this.prisma, id), this.now());
  }

  async detail(id: number, evaluations = 120): Promise<RolloutDetail> {
    const row = await this.row(this.prisma, id);
    const [events, evals] = await Promise.all([
      this.prisma.rolloutEvent.findMany({
        where: { rolloutId: id },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      }),
      this.prisma.rolloutEvaluation.findMany({
        where: { rolloutId: id },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: evaluations,
      }),
    ]);
    return {
      ...toView(row, this.now()),
      events: events.map((e) => ({
        id: e.id,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        step: e.step,
        actor: e.actor,
        action: e.action,
        reason: e.reason,
        details: e.details,
        at: e.createdAt,
      })),
      evaluations: evals.reverse().map((e) => ({
        step: e.step,
        verdict: e.verdict,
        gates: e.gates as unknown as RolloutEvaluationView["gates"],
        elapsedMs: e.elapsedMs,
        at: e.createdAt,
      })),
    };
  }

  /**
   * Starts a rollout of `candidate` against the serving version (or `baseline`): validated in
   * full first (400 naming each field), then refused with 409 when the model already has an
   * active rollout or the candidate serves in an experiment. Created `pending`; the controller
   * starts its first stage. Returns the webhook secret once, for the receiver to verify bodies.
   */
  async start(
    input: unknown,
    actor: string,
  ): Promise<{ rollout: RolloutView; webhookSecret: string | null }> {
    const parsed = parseRolloutInput(input);
    const created = await this.prisma.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(${START_LOCK_ID})::text AS locked`);
      const candidate = await this.models.find(parsed.candidate.name, parsed.candidate.version, tx);
      const issues: { field: string; message: string }[] = [];
      if (!candidate)
        issues.push({
          field: "candidate",
          message: `model ${parsed.candidate.name} version ${parsed.candidate.version} is not registered`,
        });
      else if (candidate.stage === "retired" || candidate.stage === "stable")
        issues.push({
          field: "candidate",
          message: `model ${candidate.name} version ${candidate.version} is ${candidate.stage}; roll out a candidate version`,
        });
      const baseline = parsed.baseline
        ? await this.models.find(parsed.baseline.name, parsed.baseline.version, tx)
        : await this.models.servingVersion(tx);
      if (!baseline)
        issues.push({
          field: "baseline",
          message: parsed.baseline
            ? `model ${parsed.baseline.name} version ${parsed.baseline.version} is not registered`
            : "no stable version serves yet: promote one by hand before rolling out against it",
        });
      else if ("stage" in baseline && baseline.stage !== "stable")
        issues.push({
          field: "baseline",
          message: `model ${baseline.name} version ${baseline.version} is ${baseline.stage}, not stable`,
        });
      if (candidate && baseline && candidate.id === baseline.id)
        issues.push({ field: "candidate", message: "the candidate must differ from the baseline" });
      if (issues.length) throw new RolloutValidationError(issues);
      const active = await tx.rollout.findFirst({
        where: {
          status: { in: [...ACTIVE_STATUSES] },
          OR: [{ modelName: candidate!.name }, { candidateVersionId: candidate!.id }],
        },
        select: { id: true, status: true },
      });
      if (active)
        throw new RolloutConflict(
          `model ${candidate!.name} already has an active rollout (${active.id}, ${active.status}); finish or abort it first`,
          { rolloutId: active.id },
        );
      const experiment = await tx.experimentVariant.findFirst({
        where: {
          modelVersionId: candidate!.id,
          experiment: { status: { in: ["draft", "running"] } },
        },
        select: { name: true, experiment: { select: { key: true, status: true } } },
      });
      if (experiment)
        throw new RolloutConflict(
          `model ${candidate!.name} version ${candidate!.version} serves variant "${experiment.name}" of experiment "${experiment.experiment.key}" (${experiment.experiment.status}); stop it first`,
          { experimentKey: experiment.experiment.key },
        );
      const webhookSecret = parsed.webhookUrl ? randomBytes(24).toString("base64url") : null;
      const row = await tx.rollout.create({
        data: {
          modelName: candidate!.name,
          candidateVersionId: candidate!.id,
          baselineVersionId: baseline!.id,
          status: "pending",
          gates: json(parsed.plan.gates),
          evaluationIntervalMs: parsed.plan.evaluationIntervalMs,
          webhookUrl: parsed.webhookUrl ?? null,
          webhookSecret,
          createdBy: actor,
          stages: {
            create: parsed.plan.stages.map((stage, position) => ({ position, ...stage })),
          },
          events: {
            create: {
              fromStatus: "",
              toStatus: "pending",
              step: -1,
              actor,
              action: "start",
              reason: parsed.reason ?? "rollout started",
              details: json({ plan: parsed.plan }),
            },
          },
        },
        include: withParts,
      });
      return { row, webhookSecret };
    });
    const rollout = toView(created.row, this.now());
    this.emit({
      rollout,
      from: "pending",
      to: "pending",
      step: -1,
      action: "start",
      actor,
      reason: parsed.reason ?? "rollout started",
      details: {},
      webhook: created.webhookSecret
        ? { url: created.row.webhookUrl!, secret: created.webhookSecret }
        : null,
    });
    return { rollout, webhookSecret: created.webhookSecret };
  }

  /** A manual action (promote, promote-full, pause, resume, abort, rollback, undo). */
  async act(request: ActionRequest): Promise<RolloutView> {
    return this.prisma
      .$transaction(async (tx) => {
        const row = await this.row(tx, request.id);
        const transition = manualTransition(
          {
            status: row.status as RolloutStatus,
            step: row.currentStep,
            stageCount: row.stages.length,
          },
          request.action,
        );
        if ("refused" in transition) throw new RolloutConflict(transition.refused);
        return this.transition(
          tx,
          row,
          {
            transition,
            expectedVersion: request.expectedVersion,
            actor: request.actor,
            action: request.action,
            reason: request.reason?.trim() || `${request.action.replace("_", "-")} by hand`,
          },
          new Date(this.now()),
        );
      })
      .then((result) => this.committed(result));
  }

  /**
   * Applies a transition inside the caller's transaction: the versioned update (409 when the row
   * changed since `expectedVersion`), the model versions' stages, and the audit entry. The
   * notice is emitted by `committed` once the caller's transaction has committed.
   */
  async transition(
    tx: Tx,
    row: RolloutRow,
    request: TransitionRequest,
    now = new Date(),
  ): Promise<{ view: RolloutView; notice: RolloutTransitionNotice }> {
    const { transition } = request;
    const from = row.status as RolloutStatus;
    const data: Prisma.RolloutUpdateManyMutationInput = {
      status: transition.to,
      version: { increment: 1 },
    };
    let step = row.currentStep;
    if (transition.to === "progressing") {
      step = transition.step;
      data.currentStep = step;
      data.stepStartedAt = now;
      // A new stage starts its clock at zero; resuming keeps the time already run.
      if (transition.newStage) {
        data.stepElapsedMs = 0;
        data.inconclusiveCount = 0;
        data.lastEvaluatedAt = null;
      }
    } else if (from === "progressing") {
      // Leaving a running stage stops its clock where it is.
      data.stepElapsedMs = Math.round(stageElapsedMs(row, now.getTime()));
      data.stepStartedAt = null;
    }
    if (transition.to === "paused") data.inconclusiveCount = 0;
    const updated = await tx.rollout.updateMany({
      where: { id: row.id, version: request.expectedVersion },
      data,
    });
    if (updated.count !== 1) {
      const current = await tx.rollout.findUnique({
        where: { id: row.id },
        select: { version: true, status: true },
      });
      throw new RolloutConflict(
        `rollout ${row.id} changed since version ${request.expectedVersion} (now version ${current?.version}, ${current?.status}); reload and decide again`,
        { currentVersion: current?.version, status: current?.status },
      );
    }
    await this.applyStages(tx, row, transition, request);
    await tx.rolloutEvent.create({
      data: {
        rolloutId: row.id,
        fromStatus: from,
        toStatus: transition.to,
        step,
        actor: request.actor,
        action: request.action,
        reason: request.reason,
        details: json(request.details ?? {}),
      },
    });
    const view = toView(await this.row(tx, row.id), now.getTime());
    return {
      view,
      notice: {
        rollout: view,
        from,
        to: transition.to,
        step,
        action: request.action,
        actor: request.actor,
        reason: request.reason,
        details: request.details ?? {},
        webhook:
          row.webhookUrl && row.webhookSecret
            ? { url: row.webhookUrl, secret: row.webhookSecret }
            : null,
      },
    };
  }

  /** After the transaction commits: tells listeners (webhooks) and returns the view. */
  committed(result: { view: RolloutView; notice: RolloutTransitionNotice }): RolloutView {
    this.emit(result.notice);
    return result.view;
  }

  private emit(notice: RolloutTransitionNotice): void {
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch {
        // a listener's failure never reaches the rollout
      }
    }
  }

  /** The model versions' stages follow the rollout: canary while it runs, stable once promoted. */
  private async applyStages(
    tx: Tx,
    row: RolloutRow,
    transition: Transition,
    request: TransitionRequest,
  ): Promise<void> {
    const change = { by: request.actor, reason: request.reason, rolloutId: row.id };
    const candidate = { id: row.candidateVersionId };
    switch (transition.to) {
      case "progressing":
        if (row.candidateVersion && row.status === "pending")
          await this.models.setStage(candidate, "canary", change, tx);
        return;
      case "promoted":
        await this.models.setStage(candidate, "stable", change, tx);
        return;
      case "rolled_back":
        if (transition.undo && row.baselineVersionId !== null)
          await this.models.setStage({ id: row.baselineVersionId }, "stable", change, tx);
        await this.models.setStage(candidate, "retired", change, tx);
        return;
      case "aborted":
        await this.models.setStage(candidate, "candidate", change, tx);
        return;
      case "paused":
        return;
    }
  }

  async row(db: Tx | PrismaClient, id: number): Promise<RolloutRow> {
    const row = await db.rollout.findUnique({ where: { id }, include: withParts });
    if (!row) throw new NotFound("rollout", String(id));
    return row;
  }
}

export { rolloutKey };
