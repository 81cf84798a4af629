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
import { FileTimeRanges } from "./file-times.ts";
import type { EventSummary } from "./event-summary.ts";
import type { WorkerMetrics } from "./metrics.ts";
import {
  computeUserHourStats,
  hourRanges,
  markUserHour,
  replaceUserHourStats,
  touchedUserHours,
  userHoursMissing,
  type TouchedHours,
} from "./user-stats.ts";

/** Files this recent may hold minutes whose aggregates a crash kept from being written. */
const RECOVERY_WINDOW_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
/** Users per statistics query (their ids go into the SQL as a list). */
const USERS_PER_QUERY = 2_000;

/**
 * Keeps the minute aggregates and the per-user experiment statistics in step with the snapshot
 * files: every written batch marks the minutes, and the users' hours, it touches, and a periodic
 * run recomputes them from the files near them (what a run reads grows with what is new, not with
 * how long an experiment has run).
 */
export class AggregateRunner {
  private pending: MinuteSpan | null = null;
  private pendingHours: TouchedHours = new Map();
  private readonly fileTimes = new FileTimeRanges();
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
    touchedUserHours(events, this.config.attributionWindowMs, this.pendingHours);
    this.pending = mergeSpans(
      this.pending,
      touchedSpan(events, this.topics, topic, this.config.attributionWindowMs),
    );
  }

  /**
   * After a crash: re-marks the minutes and users' hours of recently written files (their run may
   * be lost). On a database from before hourly statistics were kept, marks every hour of every
   * response file served in an experiment, once.
   */
  recover(now = Date.now()): Promise<void> {
    return readingSnapshots(this.config.snapshotRoot, () => this.recoverOnce(now), this.quarantine);
  }

  private async recoverOnce(now: number): Promise<void> {
    const rebuild = await userHoursMissing(this.prisma);
    const recent: string[] = [];
    const older: string[] = [];
    for (const topic of [this.topics.responses, ...this.topics.interactions]) {
      for (const file of await listSnapshotFiles(this.config.snapshotRoot, { topic })) {
        const info = await stat(file.path).catch(() => null);
        if (!info) continue;
        const name = sqlString(path.resolve(file.path));
        if (now - info.mtimeMs < RECOVERY_WINDOW_MS) recent.push(name);
        else if (rebuild && topic === this.topics.responses) older.push(name);
      }
    }
    if (!recent.length && !older.length) return;
    const connection = await backgroundConnection();
    try {
      const rows = recent.length
        ? (
            await connection.runAndReadAll(
              `SELECT event_time, user_id, type, rec_id,
                      json_extract_string(payload, '$.experimentKey') AS experiment_key
                 FROM read_parquet([${recent.join(", ")}], hive_partitioning = false)
                WHERE type = 'reco.response' OR rec_id IS NOT NULL`,
            )
          ).getRowObjectsJS()
        : [];
      const recentEvents = rows.map((row) => {
        const event: EventSummary = {
          type: String(row.type) as EventSummary["type"],
          userId: String(row.user_id),
          eventTime: (row.event_time as Date).toISOString(),
        };
        if (row.rec_id !== null) event.recId = String(row.rec_id);
        if (row.experiment_key !== null) event.experimentKey = String(row.experiment_key);
        return event;
      });
      // Recovered rows are responses and attributed interactions: one span over all of them, as a
      // live batch of the responses topic would mark.
      this.pending = mergeSpans(
        this.pending,
        touchedSpan(
          recentEvents,
          this.topics,
          this.topics.responses,
          this.config.attributionWindowMs,
        ),
      );
      touchedUserHours(recentEvents, this.config.attributionWindowMs, this.pendingHours);
      if (older.length) {
        // Distinct pairs only: every exposure ever served would not fit in memory on a large store.
        const pairs = await connection.runAndReadAll(
          `SELECT DISTINCT user_id, epoch_ms(date_trunc('hour', event_time)) AS hour
             FROM read_parquet([${older.join(", ")}], hive_partitioning = false)
            WHERE type = 'reco.response' AND json_extract_string(payload, '$.experimentKey') IS NOT NULL`,
        );
        const rows = pairs.getRowObjectsJS();
        for (const row of rows)
          markUserHour(this.pendingHours, Number(row.hour), String(row.user_id));
        this.logger.info(
          { files: older.length, userHours: rows.length },
          "experiment statistics per hour are missing (a database from before them): rebuilding them from the snapshot files",
        );
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
        this.fileTimes,
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
    const pending = this.pendingHours;
    this.pendingHours = new Map();
    const ranges = hourRanges(pending.keys());
    for (const [r, range] of ranges.entries()) {
      const users = new Set<string>();
      for (let hour = range.from; hour < range.to; hour += HOUR_MS)
        for (const user of pending.get(hour) ?? []) users.add(user);
      const list = [...users];
      // Many ranges at once is a rebuild or a catch-up: its progress is shown, range by range.
      if (ranges.length > 1)
        this.logger.info(
          {
            range: r + 1,
            of: ranges.length,
            from: new Date(range.from).toISOString(),
            to: new Date(range.to).toISOString(),
            users: list.length,
          },
          "recomputing experiment statistics per hour",
        );
      for (let i = 0; i < list.length; i += USERS_PER_QUERY) {
        const chunk = list.slice(i, i + USERS_PER_QUERY);
        try {
          const rows = await computeUserHourStats(
            this.fileTimes,
            this.config.snapshotRoot,
            this.topics,
            range,
            chunk,
            this.config.attributionWindowMs,
            this.quarantine,
          );
          await replaceUserHourStats(this.prisma, chunk, range, rows);
        } catch (error) {
          // What is not written yet goes back (a whole range per user: recomputing more is exact).
          for (let hour = range.from; hour < range.to; hour += HOUR_MS)
            for (const user of list.slice(i)) markUserHour(this.pendingHours, hour, user);
          for (const later of ranges.slice(r + 1))
            for (let hour = later.from; hour < later.to; hour += HOUR_MS)
              for (const user of pending.get(hour) ?? [])
                markUserHour(this.pendingHours, hour, user);
          this.metrics.aggregateRuns.inc({ result: "error" });
          this.logger.warn(
            { err: error, users: list.length - i },
            "experiment user statistics not written; retrying",
          );
          return;
        }
      }
    }
  }
}
