/**
 * The retraining runs as any process sees them (the training_runs rows with a trigger), and the
 * manual trigger: it queues a run that the scheduler holding the `retraining` lease picks up on
 * its next tick. Any process may queue (the api answering the dashboard, a CLI on PostgreSQL).
 */
import type { PrismaClient } from "@reco/db";

export type RunTrigger = "schedule" | "manual";

export interface RetrainingRunView {
  id: number;
  status: "queued" | "running" | "succeeded" | "failed";
  trigger: string | null;
  requestedBy: string | null;
  modelName: string;
  kind: string;
  phase: string | null;
  /** 0..1 */
  progress: number | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  /**
   * Running without a heartbeat for longer than the lease time: its process has probably stopped;
   * the next scheduler that looks marks it failed.
   */
  stale: boolean;
  /** the candidate it registered */
  version: { id: number; name: string; version: string; stage: string } | null;
  offlineMetrics: Record<string, number> | null;
}

export interface RetrainingStatus {
  /** the schedule's interval; null when only manual runs happen */
  intervalMs: number | null;
  /** a queued or running run, if any (one at a time) */
  active: RetrainingRunView | null;
  last: RetrainingRunView | null;
  /** who holds the scheduler lease and until when (null: no scheduler runs) */
  scheduler: { holder: string; expiresAt: Date; live: boolean } | null;
}

const runSelect = {
  id: true,
  status: true,
  trigger: true,
  requestedBy: true,
  modelName: true,
  kind: true,
  phase: true,
  progress: true,
  error: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  heartbeatAt: true,
  modelVersion: {
    select: { id: true, name: true, version: true, stage: true, offlineMetrics: true },
  },
} as const;

type RunRow = {
  [K in keyof typeof runSelect]: unknown;
} & Record<string, unknown>;

function toView(row: RunRow, staleAfterMs: number, now = Date.now()): RetrainingRunView {
  const version = row.modelVersion as {
    id: number;
    name: string;
    version: string;
    stage: string;
    offlineMetrics: unknown;
  } | null;
  return {
    id: row.id as number,
    status: row.status as RetrainingRunView["status"],
    trigger: row.trigger as string | null,
    requestedBy: row.requestedBy as string | null,
    modelName: row.modelName as string,
    kind: row.kind as string,
    phase: row.phase as string | null,
    progress: row.progress as number | null,
    error: row.error as string | null,
    createdAt: row.createdAt as Date,
    startedAt: row.startedAt as Date | null,
    finishedAt: row.finishedAt as Date | null,
    heartbeatAt: row.heartbeatAt as Date | null,
    stale:
      row.status === "running" &&
      (row.heartbeatAt === null || now - (row.heartbeatAt as Date).getTime() > staleAfterMs),
    version: version
      ? { id: version.id, name: version.name, version: version.version, stage: version.stage }
      : null,
    offlineMetrics: version ? (version.offlineMetrics as Record<string, number>) : null,
  };
}

/** Only retraining runs carry a trigger; `train` CLI runs leave it null. */
const retrainingRuns = { trigger: { not: null } } as const;

export const RETRAINING_LEASE = "retraining";

export class RetrainingRuns {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: {
      intervalMs: number | null;
      /** the schedulers' lease time: a running run's heartbeat older than this is stale (60 s) */
      staleAfterMs?: number;
    } = { intervalMs: null },
  ) {}

  private view(row: unknown): RetrainingRunView {
    return toView(row as RunRow, this.options.staleAfterMs ?? 60_000);
  }

  /** Recent runs, newest first (at most `limit`, default 20). */
  async list(limit = 20): Promise<RetrainingRunView[]> {
    const rows = await this.prisma.trainingRun.findMany({
      where: retrainingRuns,
      orderBy: { id: "desc" },
      take: Math.min(Math.max(1, limit), 200),
      select: runSelect,
    });
    return rows.map((row) => this.view(row));
  }

  async get(id: number): Promise<RetrainingRunView | null> {
    const row = await this.prisma.trainingRun.findFirst({
      where: { id, ...retrainingRuns },
      select: runSelect,
    });
    return row ? this.view(row) : null;
  }

  async status(): Promise<RetrainingStatus> {
    const [active, last, lease] = await Promise.all([
      this.prisma.trainingRun.findFirst({
        where: { ...retrainingRuns, status: { in: ["queued", "running"] } },
        orderBy: { id: "asc" },
        select: runSelect,
      }),
      this.prisma.trainingRun.findFirst({
        where: { ...retrainingRuns, status: { in: ["succeeded", "failed"] } },
        orderBy: { id: "desc" },
        select: runSelect,
      }),
      this.prisma.lease.findUnique({ where: { name: RETRAINING_LEASE } }),
    ]);
    return {
      intervalMs: this.options.intervalMs,
      active: active ? this.view(active) : null,
      last: last ? this.view(last) : null,
      scheduler: lease
        ? {
            holder: lease.holder,
            expiresAt: lease.expiresAt,
            live: lease.expiresAt.getTime() > Date.now(),
          }
        : null,
    };
  }

  /**
   * Queues a run now. One at a time: when a run is already queued or running, that run is
   * returned with `queued: false` rather than a second one queued behind it.
   */
  async trigger(request: {
    by: string;
    trigger?: RunTrigger;
  }): Promise<{ run: RetrainingRunView; queued: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      // Serialises concurrent triggers (two clicks, two processes) so only one run is queued.
      await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(${TRIGGER_LOCK_ID})::text AS locked`);
      const existing = await tx.trainingRun.findFirst({
        where: { ...retrainingRuns, status: { in: ["queued", "running"] } },
        orderBy: { id: "asc" },
        select: runSelect,
      });
      if (existing) return { run: this.view(existing), queued: false };
      const created = await tx.trainingRun.create({
        data: {
          modelName: "",
          kind: "",
          status: "queued",
          trigger: request.trigger ?? "manual",
          requestedBy: request.by,
          phase: "queued",
          progress: 0,
        },
        select: runSelect,
      });
      return { run: this.view(created), queued: true };
    });
  }
}

/** pg_advisory_xact_lock key of the trigger (any constant distinct from the other locks). */
export const TRIGGER_LOCK_ID = 7_211_604;
