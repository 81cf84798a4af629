import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Prisma, PrismaClient } from "@reco/db";
import type { Logger } from "pino";
import { evaluateGates, type GateResult } from "../gates.ts";
import { decide, type Decision, type Transition } from "../machine.ts";
import { readArmStats, type RolloutArmStats } from "./arm-stats.ts";
import { DatabaseLease, LeaseLost } from "./lease.ts";
import { stageElapsedMs, toView, type RolloutRow } from "./rows.ts";
import type { RolloutService } from "./service.ts";
import { RolloutConflict } from "../errors.ts";

export const CONTROLLER_LEASE = "rollout-controller";

export interface RolloutControllerOptions {
  /** How often the loop wakes: renews the lease and evaluates rollouts that are due (default 1 s). */
  tickMs?: number;
  /** Lease time; a leader that does not renew within it loses the lease (default 10 s). */
  leaseTtlMs?: number;
  /** This process's name in the lease (default host:pid:random). */
  holder?: string;
  /** Reads what the gates judge (default: the stream worker's aggregates in the database). */
  readStats?: (row: RolloutRow, stageStartedAt: Date) => Promise<RolloutArmStats>;
  /** Runs between deciding and writing: fault-injection tests pause the process here. */
  beforeWrite?: (rolloutId: number) => Promise<void> | void;
  logger?: Pick<Logger, "info" | "warn" | "error">;
  now?: () => number;
}

export interface TickReport {
  leader: boolean;
  token: number | null;
  evaluated: number;
  transitions: string[];
  /** Writes refused because the rollout changed meanwhile (a manual action won): 409 inside. */
  conflicts: number;
  fenced: boolean;
}

/**
 * The rollout controller: one leader at a time (a database lease with a fencing token checked in
 * every write), evaluating each progressing rollout on its interval and moving it on — the next
 * stage, promotion, automatic rollback, or a pause when it stays inconclusive. Everything it
 * knows is in the database (stage start, time run, inconclusive count, evaluations), so a new
 * leader after a crash resumes the same stage where it was; every write is one transaction that
 * checks both the lease token and the rollout's version, so a stage is never repeated or skipped.
 */
export class RolloutController {
  readonly lease: DatabaseLease;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickReport> | undefined;
  private stopped = false;
  private readonly tickMs: number;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly rollouts: RolloutService,
    private readonly options: RolloutControllerOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.lease = new DatabaseLease(
      prisma,
      CONTROLLER_LEASE,
      options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
      options.leaseTtlMs ?? 10_000,
    );
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((error: Error) => {
          this.options.logger?.warn({ err: error.message }, "rollout controller tick failed");
          return {
            leader: false,
            token: null,
            evaluated: 0,
            transitions: [],
            conflicts: 0,
            fenced: false,
          };
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.tickMs);
        });
    };
    loop();
  }

  /** Stops the loop, waits for a tick in flight, and gives the lease up for a successor. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.lease.release().catch(() => undefined);
  }

  /** One pass: take or renew the lease; if leader, start pending rollouts and evaluate due ones. */
  async tick(): Promise<TickReport> {
    const grant = await this.lease.acquire();
    const report: TickReport = {
      leader: grant !== null,
      token: grant?.token ?? null,
      evaluated: 0,
      transitions: [],
      conflicts: 0,
      fenced: false,
    };
    if (!grant) return report;
    if (grant.acquired)
      this.options.logger?.info(
        { holder: this.lease.holder, token: grant.token },
        "rollout controller is the leader",
      );
    // Ids only: each rollout is read whole, fresh, right before it is judged (advance).
    const rows = await this.prisma.rollout.findMany({
      where: { status: { in: ["pending", "progressing"] } },
      select: { id: true },
      orderBy: { id: "asc" },
    });
    for (const row of rows) {
      try {
        const done = await this.advance(row.id, grant.token);
        if (done === "evaluated") report.evaluated++;
        else if (done) report.transitions.push(done);
      } catch (error) {
        if (error instanceof LeaseLost) {
          report.fenced = true;
          this.options.logger?.warn({ err: error.message }, "fenced: write refused");
          return report;
        }
        if (error instanceof RolloutConflict) {
          // changed by hand meanwhile: nothing was written; decided again on the next tick
          report.conflicts++;
          continue;
        }
        throw error;
      }
    }
    return report;
  }

  /** Starts or evaluates one rollout; returns what it did (a transition, "evaluated" or null). */
  private async advance(id: number, token: number): Promise<string | null> {
    const row = await this.rollouts.row(this.prisma, id);
    const now = this.now();
    if (row.status === "pending") {
      await this.write(token, async (tx) => {
        const result = await this.rollouts.transition(
          tx,
          row,
          {
            transition: { to: "progressing", step: 0, newStage: true },
            expectedVersion: row.version,
            actor: "controller",
            action: "start_stage",
            reason: `stage 1 of ${row.stages.length}: ${row.stages[0]?.trafficPct} % to the candidate`,
          },
          new Date(now),
        );
        return result;
      });
      return `${id}: pending → stage 1`;
    }
    if (row.status !== "progressing") return null;
    if (row.lastEvaluatedAt && now - row.lastEvaluatedAt.getTime() < row.evaluationIntervalMs)
      return null;
    const view = toView(row, now);
    const stage = view.stages[row.currentStep];
    if (!stage || !row.stepStartedAt) return null;
    const stageStart = new Date(row.stepStartedAt.getTime() - row.stepElapsedMs);
    const stats = await (this.options.readStats
      ? this.options.readStats(row, stageStart)
      : readArmStats(this.prisma, row.id, stageStart, stage.trafficPct >= 100));
    const gates = evaluateGates({ ...stats, config: view.gates });
    const elapsedMs = stageElapsedMs(row, now);
    const decision = decide(
      {
        stage,
        elapsedMs,
        users: { candidate: stats.candidateUsers.n, stable: stats.stableUsers.n },
        inconclusiveCount: row.inconclusiveCount,
        maxInconclusive: view.gates.maxInconclusive,
        ctrProofFromPct: view.gates.ctrProofFromPct,
        isLastStage: row.currentStep === view.stages.length - 1,
      },
      gates,
    );
    await this.options.beforeWrite?.(row.id);
    const transition = transitionFor(decision, row.currentStep);
    await this.write(token, async (tx) => {
      await tx.rolloutEvaluation.create({
        data: {
          rolloutId: row.id,
          step: row.currentStep,
          verdict: verdictOf(decision),
          gates: JSON.parse(JSON.stringify(gates)) as Prisma.InputJsonValue,
          elapsedMs: Math.round(elapsedMs),
          token,
        },
      });
      if (!transition) {
        // Bookkeeping only, so the version stays: an engineer's action based on the status and
        // stage they saw is not refused because an evaluation happened meanwhile. The version in
        // the condition still refuses this write if an action changed the rollout first.
        const updated = await tx.rollout.updateMany({
          where: { id: row.id, version: row.version },
          data: {
            lastEvaluatedAt: new Date(now),
            ...(decision.kind === "inconclusive" ? { inconclusiveCount: { increment: 1 } } : {}),
          },
        });
        if (updated.count !== 1)
          throw new RolloutConflict(`rollout ${row.id} changed during its evaluation`);
        return null;
      }
      return this.rollouts.transition(
        tx,
        row,
        {
          transition,
          expectedVersion: row.version,
          actor: "controller",
          action: decision.kind,
          reason: decision.reason,
          details: {
            gates: summarise(gates),
            users: usersOf(stats),
            elapsedMs: Math.round(elapsedMs),
          },
        },
        new Date(now),
      );
    });
    return transition ? `${id}: ${decision.kind}` : "evaluated";
  }

  /** One transaction: the lease check first (fencing), then the work; notices after commit. */
  private async write(
    token: number,
    work: (
      tx: Prisma.TransactionClient,
    ) => Promise<Parameters<RolloutService["committed"]>[0] | null>,
  ): Promise<void> {
    const result = await this.prisma.$transaction(async (tx) => {
      await this.lease.fenced(tx, token);
      return work(tx);
    });
    if (result) this.rollouts.committed(result);
  }
}

function transitionFor(decision: Decision, step: number): Transition | null {
  switch (decision.kind) {
    case "rollback":
      return { to: "rolled_back" };
    case "promote":
      return { to: "promoted" };
    case "advance":
      return { to: "progressing", step: step + 1, newStage: true };
    case "pause":
      return { to: "paused" };
    default:
      return null;
  }
}

function verdictOf(decision: Decision): string {
  switch (decision.kind) {
    case "rollback":
      return "fail";
    case "advance":
    case "promote":
      return "pass";
    case "wait":
      return "waiting";
    default:
      return "inconclusive";
  }
}

function summarise(gates: GateResult[]) {
  return Object.fromEntries(
    gates.map((gate) => [
      gate.gate,
      {
        verdict: gate.verdict,
        candidate: gate.candidate,
        stable: gate.stable,
        threshold: gate.threshold,
        interval: gate.interval,
        samples: gate.samples,
      },
    ]),
  );
}

function usersOf(stats: RolloutArmStats) {
  return { candidate: stats.candidateUsers.n, stable: stats.stableUsers.n };
}
