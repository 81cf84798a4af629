import { stat } from "node:fs/promises";
import path from "node:path";
import type { PrismaClient } from "@reco/db";
import {
  backgroundConnection,
  listSnapshotFiles,
  readingSnapshots,
  sqlString,
  type QuarantineOptions,
} from "@reco/snapshots";
import type { Logger } from "pino";
import {
  computeMinuteAggregates,
  mergeSpans,
  touchedSpan,
  upsertMinuteAggregates,
  type AggregateTopics,
  type MinuteSpan,
} from "./aggregates.ts";
import type { WorkerConfig } from "./config.ts";
import type { EventSummary } from "./event-summary.ts";
import type { WorkerMetrics } from "./metrics.ts";
import { computeUserStats, touchedUsers, upsertUserStats } from "./user-stats.ts";

/** Files this recent may hold minutes whose aggregates a crash kept from being written. */
const RECOVERY_WINDOW_MS = 15 * 60_000;
const MINUTE_MS = 60_000;
/** Users per statistics query (their ids go into the SQL as a list). */
const USERS_PER_QUERY = 2_000;

/**
 * Keeps the minute aggregates and the per-user experiment statistics in step with the snapshot
 * files: every written batch marks the minutes and users it touches, and a periodic run
 * recomputes them from the files.
 */
export class AggregateRunner {
  private pending: MinuteSpan | null = null;
  private readonly pendingUsers = new Set<string>();
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: WorkerConfig,
    private readonly topics: AggregateTopics,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    /** Unreadable snapshot files met while reading are quarantined and reported here. */
    private readonly quarantine: QuarantineOptions = {},
  ) {}

  note(topic: string, events: readonly EventSummary[]): void {
    touchedUsers(events, this.pendingUsers);
    this.pending = mergeSpans(
      this.pending,
      touchedSpan(events, this.topics, topic, this.config.attributionWindowMs),
    );
  }

  /** After a crash: re-marks the minutes and users of recently written files (their run may be lost). */
  recover(now = Date.now()): Promise<void> {
    return readingSnapshots(this.config.snapshotRoot, () => this.recoverOnce(now), this.quarantine);
  }

  private async recoverOnce(now: number): Promise<void> {
    const recent: string[] = [];
    for (const topic of [this.topics.responses, ...this.topics.interactions]) {
      for (const file of await listSnapshotFiles(this.config.snapshotRoot, { topic })) {
        const info = await stat(file.path).catch(() => null);
        if (info && now - info.mtimeMs < RECOVERY_WINDOW_MS)
          recent.push(sqlString(path.resolve(file.path)));
      }
    }
    if (!recent.length) return;
    const connection = await backgroundConnection();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT event_time, user_id FROM read_parquet([${recent.join(", ")}], hive_partitioning = false)
          WHERE type = 'reco.response' OR rec_id IS NOT NULL`,
      );
      for (const row of reader.getRowObjectsJS()) {
        const time = (row.event_time as Date).getTime();
        const minute = Math.floor(time / MINUTE_MS) * MINUTE_MS;
        const reach =
          Math.floor((time + this.config.attributionWindowMs) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
        this.pending = mergeSpans(this.pending, { from: new Date(minute), to: new Date(reach) });
        this.pendingUsers.add(String(row.user_id));
      }
    } finally {
      connection.closeSync();
    }
  }

  /** Recomputes the pending minutes; runs never overlap (a caller waits for the one in flight). */
  run(): Promise<void> {
    const next = this.running.then(() => this.runOnce());
    this.running = next;
    return next;
  }

  private async runOnce(): Promise<void> {
    await this.runUserStats();
    const span = this.pending;
    if (!span) return;
    this.pending = null;
    try {
      const rows = await computeMinuteAggregates(
        this.config.snapshotRoot,
        this.topics,
        span,
        this.config.attributionWindowMs,
        this.quarantine,
      );
      await upsertMinuteAggregates(this.prisma, rows);
      this.metrics.aggregateRuns.inc({ result: "ok" });
    } catch (error) {
      this.pending = mergeSpans(this.pending, span);
      this.metrics.aggregateRuns.inc({ result: "error" });
      this.logger.warn(
        { err: error, span },
        "minute aggregates not written; retrying on the next run",
      );
    }
  }

  private async runUserStats(): Promise<void> {
    const users = [...this.pendingUsers];
    this.pendingUsers.clear();
    for (let i = 0; i < users.length; i += USERS_PER_QUERY) {
      const chunk = users.slice(i, i + USERS_PER_QUERY);
      try {
        const rows = await computeUserStats(
          this.config.snapshotRoot,
          this.topics,
          chunk,
          this.config.attributionWindowMs,
          this.quarantine,
        );
        await upsertUserStats(this.prisma, rows);
      } catch (error) {
        for (const user of users.slice(i)) this.pendingUsers.add(user);
        this.metrics.aggregateRuns.inc({ result: "error" });
        this.logger.warn(
          { err: error, users: users.length - i },
          "experiment user statistics not written; retrying",
        );
        return;
      }
    }
  }
}
