/**
 * The retraining scheduler: in the process that holds the `retraining` lease (the rollout
 * controller's lease mechanism, with its fencing token), it fails runs whose owner stopped
 * heartbeating, then starts one run at a time — a queued manual run first, else a scheduled one
 * when the interval has passed since the last run (or since this scheduler started). The job runs
 * in a worker thread of this process; its phase and progress go to the run row with each heartbeat, so any process
 * can show them. The version row is written last, in one transaction with the run's success and
 * only while the run is still this holder's: a run failed meanwhile registers nothing.
 */
import { readdir } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { ModelVersionStore, type Prisma, type PrismaClient } from "@reco/db";
import { runRetrainJobInThread, type RetrainJobOptions, type RetrainJobResult } from "@reco/ml";
import { DatabaseLease, type RolloutService } from "@reco/rollouts/store";
import type { StorageEnv } from "@reco/storage";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { RETRAINING_LEASE } from "./runs.ts";

export interface RetrainingConfig {
  snapshotsDir: string;
  registryDir: string;
  /** null: no schedule, manual runs only */
  intervalMs: number | null;
  /** the kind to train (default: the stable version's kind, else ials) */
  kind?: string;
  /** registry model name (default: the stable version's name, else the kind) */
  modelName?: string;
  /** parameters held fixed (e.g. few epochs in tests); the kind's tuned defaults fill the rest */
  params?: Record<string, string>;
  ks?: number[];
  /** start a canary rollout when the candidate's metric is at least the stable's */
  autoRollout?: boolean;
  /** the offline metric compared for the automatic rollout (default ndcg@10) */
  metric?: string;
  /**
   * S3 mode (S3_ENDPOINT set): snapshots are read from the bucket and versions are uploaded there,
   * their rows pointing at it (`object:`), so every api instance can fetch them.
   */
  objectStorage?: StorageEnv;
}

export interface RetrainingSchedulerOptions {
  /** How often the loop wakes: renews the lease, heartbeats the run, looks for work (default 5 s). */
  tickMs?: number;
  /** Lease time, also how old a run's heartbeat may be before it counts as abandoned (default 60 s). */
  leaseTtlMs?: number;
  holder?: string;
  rollouts?: Pick<RolloutService, "start">;
  logger?: Pick<Logger, "info" | "warn" | "error">;
  /** Runs after the artifact is published and before the version is registered (fault tests). */
  beforeRegister?: (runId: number) => Promise<void> | void;
  /** The job (default runRetrainJobInThread: off the event loop of the process that serves). */
  job?: (options: RetrainJobOptions) => Promise<RetrainJobResult>;
  /** Counts the runs this scheduler ends (retrainingRunsCounter on the process's /metrics). */
  runsCounter?: Counter<"status">;
}

/**
 * `reco_retraining_runs_total{status}` in `registry`, both series at zero from the start so that
 * increase() sees the first failure. Created by a process that may host a scheduler, before it
 * starts (the name is exported even while the process is not the lease holder).
 */
export function retrainingRunsCounter(registry: Registry): Counter<"status"> {
  const counter = new Counter({
    name: "reco_retraining_runs_total",
    help: "Retraining runs ended by this process, by status (succeeded; failed: an error, a stop, or a run abandoned by a dead owner)",
    labelNames: ["status"],
    registers: [registry],
  });
  for (const status of ["succeeded", "failed"]) counter.inc({ status }, 0);
  return counter;
}

export interface RetrainingTick {
  leader: boolean;
  /** runs this tick marked failed because their owner stopped heartbeating */
  abandoned: number[];
  /** the run this tick started, if any */
  started: number | null;
}

export interface RunOutcome {
  runId: number;
  status: "succeeded" | "failed";
  versionId?: number;
  version?: string;
  error?: string;
  rolloutId?: number;
}

const json = (value: unknown): Prisma.InputJsonValue => JSON.parse(JSON.stringify(value ?? {}));

export class RetrainingScheduler {
  readonly lease: DatabaseLease;
  private readonly tickMs: number;
  private readonly leaseTtlMs: number;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<RetrainingTick> | undefined;
  private stopped = true;
  private current: {
    runId: number;
    phase: string;
    progress: number;
    done: Promise<RunOutcome>;
  } | null = null;
  /** Runs this process ended, counted where their row changes (so each run once, in one process). */
  private readonly ended: Counter<"status"> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: RetrainingConfig,
    private readonly options: RetrainingSchedulerOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 5_000;
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.lease = new DatabaseLease(
      prisma,
      RETRAINING_LEASE,
      options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
      this.leaseTtlMs,
    );
    this.ended = options.runsCounter;
  }

  get holder(): string {
    return this.lease.holder;
  }

  /** The run this process is executing, settled when it ends. */
  get running(): Promise<RunOutcome> | null {
    return this.current?.done ?? null;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((error: Error) => {
          this.options.logger?.warn({ err: error.message }, "retraining scheduler tick failed");
          return { leader: false, abandoned: [], started: null };
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.tickMs);
        });
    };
    loop();
  }

  /**
   * Stops the loop. A run still in progress is marked failed ("stopped") so it does not wait for
   * its heartbeat to expire, and registers nothing; the lease is given up for another scheduler.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    const current = this.current;
    if (current) {
      await this.finishFailed(current.runId, "stopped: the process running it shut down");
    }
    await this.lease.release().catch(() => undefined);
  }

  /** One pass: lease, abandoned runs, heartbeat or a new run. */
  async tick(): Promise<RetrainingTick> {
    const grant = await this.lease.acquire();
    if (!grant) {
      // A run this process still executes keeps its heartbeat even after the lease moved on (a
      // pause, a database hiccup): the new holder then neither fails it nor starts another.
      if (this.current) await this.heartbeat();
      return { leader: false, abandoned: [], started: null };
    }
    const abandoned = await this.failAbandoned();
    if (this.current) {
      await this.heartbeat();
      return { leader: true, abandoned, started: null };
    }
    const claimed = await this.claim();
    if (!claimed) return { leader: true, abandoned, started: null };
    const entry = { runId: claimed.id, phase: "load", progress: 0 } as {
      runId: number;
      phase: string;
      progress: number;
      done: Promise<RunOutcome>;
    };
    this.current = entry;
    entry.done = this.execute(claimed).finally(() => {
      if (this.current === entry) this.current = null;
    });
    return { leader: true, abandoned, started: claimed.id };
  }

  /** Runs whose owner stopped heartbeating (killed, frozen, lost its database) end `failed`. */
  private async failAbandoned(): Promise<number[]> {
    const rows = await this.prisma.$queryRawUnsafe<{ id: number }[]>(
      `UPDATE training_runs
          SET status = 'failed', finished_at = now(), phase = 'failed',
              error = 'abandoned: the process running it (' || coalesce(holder, '?') || ') stopped heartbeating'
        WHERE trigger IS NOT NULL AND status = 'running'
          AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1::float8 / 1000))
          AND id <> $2
        RETURNING id`,
      this.leaseTtlMs,
      this.current?.runId ?? -1,
    );
    const ids = rows.map((row) => Number(row.id));
    if (ids.length) {
      this.options.logger?.warn({ runs: ids }, "retraining runs abandoned, marked failed");
      this.ended?.inc({ status: "failed" }, ids.length);
    }
    return ids;
  }

  private async heartbeat(): Promise<void> {
    const current = this.current;
    if (!current) return;
    await this.prisma.trainingRun.updateMany({
      where: { id: current.runId, status: "running", holder: this.holder },
      data: { heartbeatAt: new Date(), phase: current.phase, progress: current.progress },
    });
  }

  private async isDue(tx: Prisma.TransactionClient): Promise<boolean> {
    if (this.config.intervalMs === null) return false;
    const last = await tx.trainingRun.findFirst({
      where: { trigger: { not: null } },
      orderBy: { id: "desc" },
      select: { createdAt: true },
    });
    const since = Math.max(last?.createdAt.getTime() ?? 0, this.startedAt);
    return Date.now() >= since + this.config.intervalMs;
  }

  /** In one fenced transaction: nothing running, take the oldest queued run or a due one. */
  private async claim() {
    return this.prisma.$transaction(async (tx) => {
      await this.lease.fenced(tx);
      const running = await tx.trainingRun.findFirst({
        where: { trigger: { not: null }, status: "running" },
        select: { id: true },
      });
      if (running) return null;
      let run = await tx.trainingRun.findFirst({
        where: { trigger: { not: null }, status: "queued" },
        orderBy: { id: "asc" },
        select: { id: true },
      });
      if (!run) {
        if (!(await this.isDue(tx))) return null;
        run = await tx.trainingRun.create({
          data: {
            modelName: "",
            kind: "",
            status: "queued",
            trigger: "schedule",
            requestedBy: "schedule",
          },
          select: { id: true },
        });
      }
      const stable = await tx.modelVersion.findFirst({
        where: { stage: "stable" },
        orderBy: [{ stageChangedAt: "desc" }, { id: "desc" }],
        select: { name: true, kind: true, offlineMetrics: true },
      });
      const kind = this.config.kind ?? stable?.kind ?? "ials";
      const modelName = this.config.modelName ?? stable?.name ?? kind;
      const params = { ...this.config.params, source: this.config.snapshotsDir, split: "random" };
      return tx.trainingRun.update({
        where: { id: run.id },
        data: {
          status: "running",
          startedAt: new Date(),
          heartbeatAt: new Date(),
          holder: this.holder,
          phase: "load",
          progress: 0,
          modelName,
          kind,
          params: json(params),
        },
        select: { id: true, modelName: true, kind: true },
      });
    });
  }

  private async execute(run: { id: number; modelName: string; kind: string }): Promise<RunOutcome> {
    const log = this.options.logger;
    log?.info({ runId: run.id, kind: run.kind, name: run.modelName }, "retraining started");
    let lastPhase = "load";
    try {
      const job = this.options.job ?? runRetrainJobInThread;
      const result = await job({
        snapshotsDir: this.config.snapshotsDir,
        registryDir: this.config.registryDir,
        name: run.modelName,
        version: await this.nextVersion(run.modelName),
        kind: run.kind,
        params: this.config.params,
        ks: this.config.ks,
        runId: run.id,
        ...(this.config.objectStorage ? { objectStorage: this.config.objectStorage } : {}),
        onProgress: (phase, progress) => {
          if (!this.current || this.current.runId !== run.id) return;
          this.current.phase = phase;
          this.current.progress = progress;
          // A new phase shows at once; progress within a phase rides on the heartbeat.
          if (phase !== lastPhase) {
            lastPhase = phase;
            this.heartbeat().catch(() => undefined);
          }
        },
      });
      await this.options.beforeRegister?.(run.id);
      const versionId = await this.register(run.id, result);
      log?.info(
        { runId: run.id, version: result.metadata.version, metrics: result.metrics },
        "retraining registered a candidate",
      );
      const outcome: RunOutcome = {
        runId: run.id,
        status: "succeeded",
        versionId,
        version: result.metadata.version,
      };
      const rolloutId = await this.maybeRollOut(result).catch((error: Error) => {
        log?.warn({ runId: run.id, err: error.message }, "automatic rollout not started");
        return undefined;
      });
      if (rolloutId !== undefined) outcome.rolloutId = rolloutId;
      return outcome;
    } catch (error) {
      const message = (error as Error).message;
      log?.error({ runId: run.id, err: message }, "retraining failed");
      await this.finishFailed(run.id, message).catch(() => undefined);
      return { runId: run.id, status: "failed", error: message };
    }
  }

  /**
   * The next v<N> past both the registry's directories and the database's rows of this name: the
   * two can drift (a registry directory moved, versions recorded from another registry), and a
   * label taken in either would fail the run at its very end.
   */
  private async nextVersion(name: string): Promise<string> {
    const number = (label: string) => Number(/^v(\d+)$/.exec(label)?.[1] ?? 0);
    const [dirs, rows] = await Promise.all([
      readdir(path.join(this.config.registryDir, name)).catch(() => [] as string[]),
      this.prisma.modelVersion.findMany({ where: { name }, select: { version: true } }),
    ]);
    return `v${Math.max(0, ...dirs.map(number), ...rows.map((row) => number(row.version))) + 1}`;
  }

  /** The version row and the run's success together, only while the run is still ours. */
  private async register(runId: number, result: RetrainJobResult): Promise<number> {
    const m = result.metadata;
    const versionId = await this.prisma.$transaction(async (tx) => {
      const mine = await tx.trainingRun.updateMany({
        where: { id: runId, status: "running", holder: this.holder },
        data: {
          status: "succeeded",
          phase: "done",
          progress: 1,
          finishedAt: new Date(),
          heartbeatAt: new Date(),
          log: result.log.join("\n"),
          timings: json(result.timings),
          params: json({ ...result.params, source: this.config.snapshotsDir, split: "random" }),
        },
      });
      if (mine.count === 0)
        throw new Error(
          `run ${runId} is no longer this process's (failed meanwhile); not registered`,
        );
      const id = await new ModelVersionStore(this.prisma).record(
        {
          name: m.name,
          version: m.version,
          kind: m.algorithm,
          artifactPath: result.dir,
          checksum: m.files["model.onnx"]!.sha256,
          hyperparams: json(m.hyperparameters),
          offlineMetrics: json(m.metrics),
          dataRange: json(m.data),
          createdAt: new Date(m.createdAt),
        },
        tx,
      );
      await tx.trainingRun.update({ where: { id: runId }, data: { modelVersionId: id } });
      return id;
    });
    this.ended?.inc({ status: "succeeded" });
    return versionId;
  }

  private async finishFailed(runId: number, error: string): Promise<void> {
    const { count } = await this.prisma.trainingRun.updateMany({
      where: { id: runId, status: "running", holder: this.holder },
      data: { status: "failed", phase: "failed", error, finishedAt: new Date() },
    });
    // zero: another scheduler failed it already (abandoned) and counted it there
    if (count) this.ended?.inc({ status: "failed" });
  }

  /** With autoRollout: a canary of the candidate when its metric is at least the stable's. */
  private async maybeRollOut(result: RetrainJobResult): Promise<number | undefined> {
    if (!this.config.autoRollout || !this.options.rollouts) return undefined;
    const metric = this.config.metric ?? "ndcg@10";
    const stable = await this.prisma.modelVersion.findFirst({
      where: { stage: "stable" },
      orderBy: [{ stageChangedAt: "desc" }, { id: "desc" }],
      select: { name: true, version: true, offlineMetrics: true },
    });
    if (!stable) return undefined;
    const candidateScore = result.metrics[metric];
    const stableScore = (stable.offlineMetrics as Record<string, unknown> | null)?.[metric];
    if (typeof candidateScore !== "number") return undefined;
    if (typeof stableScore === "number" && candidateScore < stableScore) {
      this.options.logger?.info(
        { metric, candidate: candidateScore, stable: stableScore },
        "candidate below the stable version: no automatic rollout",
      );
      return undefined;
    }
    const started = await this.options.rollouts.start(
      { candidate: { name: result.metadata.name, version: result.metadata.version } },
      "retraining",
    );
    return started.rollout.id;
  }
}
