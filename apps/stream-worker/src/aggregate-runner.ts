import { stat } from "node:fs/promises";
import type { PrismaClient } from "@reco/db";
import type { RecoEvent } from "@reco/contracts";
import { listSnapshotFiles, querySnapshots } from "@reco/snapshots";
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
import type { WorkerMetrics } from "./metrics.ts";

/** Files this recent may hold minutes whose aggregates a crash kept from being written. */
const RECOVERY_WINDOW_MS = 15 * 60_000;

/**
 * Keeps the minute aggregates in step with the snapshot files: every written batch marks the
 * minutes it touches, and a periodic run recomputes those minutes from the files.
 */
export class AggregateRunner {
  private pending: MinuteSpan | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: WorkerConfig,
    private readonly topics: AggregateTopics,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  note(topic: string, events: RecoEvent[]): void {
    this.pending = mergeSpans(
      this.pending,
      touchedSpan(events, this.topics, topic, this.config.attributionWindowMs),
    );
  }

  /** After a crash: re-marks the minutes of recently written files (their run may not have happened). */
  async recover(now = Date.now()): Promise<void> {
    const recent: string[] = [];
    for (const topic of [this.topics.responses, ...this.topics.interactions]) {
      for (const file of await listSnapshotFiles(this.config.snapshotRoot, { topic })) {
        const info = await stat(file.path).catch(() => null);
        if (info && now - info.mtimeMs < RECOVERY_WINDOW_MS) recent.push(topic);
      }
    }
    if (!recent.length) return;
    const [row] = await querySnapshots<{ first: Date | null; last: Date | null }>(
      this.config.snapshotRoot,
      "SELECT min(event_time) AS first, max(event_time) AS last FROM {source} WHERE type = 'reco.response' OR rec_id IS NOT NULL",
      [...new Set(recent)],
    );
    if (!row?.first || !row.last) return;
    const from = new Date(Math.floor(row.first.getTime() / 60_000) * 60_000);
    this.pending = mergeSpans(this.pending, {
      from,
      to: new Date(Math.floor(row.last.getTime() / 60_000) * 60_000 + 60_000),
    });
  }

  /** Recomputes the pending minutes; runs never overlap (a caller waits for the one in flight). */
  run(): Promise<void> {
    const next = this.running.then(() => this.runOnce());
    this.running = next;
    return next;
  }

  private async runOnce(): Promise<void> {
    const span = this.pending;
    if (!span) return;
    this.pending = null;
    try {
      const rows = await computeMinuteAggregates(
        this.config.snapshotRoot,
        this.topics,
        span,
        this.config.attributionWindowMs,
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
}
