import type { BusConsumer, EventBus } from "@reco/bus";
import {
  AppError,
  DEFAULT_FEATURE_KEY_PREFIX,
  describeZodError,
  recentItemsKey,
  userDeletedSchema,
  type TopicNames,
  type UserDeleted,
} from "@reco/contracts";
import { experimentStatCounts, type ExperimentStatCounts, type PrismaClient } from "@reco/db";
import {
  eraseUserFromSnapshots,
  filesWithUser,
  userSnapshotEvents,
  type UserSnapshotEvent,
} from "@reco/snapshots";
import type { Cache } from "@reco/cache";
import type { InteractionHistory } from "./history.ts";
import { sharedRecentKey, sharedSeenKey, type RecommendationService } from "./recommender.ts";

export type DeletionStatus = "pending" | "done";

/** One deletion request as the audit table holds it (the answer of DELETE /users/:userId). */
export interface DeletionRecord {
  userId: string;
  status: DeletionStatus;
  /** Name of the API key that asked for it. */
  requestedBy: string;
  requestedAt: string;
  completedAt: string | null;
  /** What was removed (summed over every run of a deletion resumed after a crash). */
  removed: {
    snapshotFiles: number;
    snapshotRows: number;
    cacheEntries: number;
    /** Rows of per-user experiment statistics: the totals and their hours. */
    experimentStatRows: number;
    userRows: number;
  };
}

/** Everything stored about a user (GET /users/:userId/export). */
export interface UserExport {
  userId: string;
  exportedAt: string;
  /** The `users` row (attributes from the importer), if any. */
  profile: { attributes: unknown; createdAt: string } | null;
  /** Every event in the snapshots: interactions, recommendation requests and responses. */
  events: UserSnapshotEvent[];
  /** Experiment arms the user was exposed to, with the per-user statistics kept for results. */
  experiments: (ExperimentStatCounts & {
    experimentKey: string;
    variant: string;
    preMetric: number | null;
    firstExposure: string;
    updatedAt: string;
    /** The same statistics per hour the responses were served in (UTC). */
    hours: (ExperimentStatCounts & {
      hour: string;
      /** "stream" (recomputed from the event files) or "api" (recorded through the experiments API) */
      source: string;
      firstExposure: string;
    })[];
  })[];
  /** Cached recent items (the stream worker's list, the shared list) and the shared seen set. */
  cached: { recentItems: unknown[]; sharedRecentItems: unknown[]; sharedSeenItems: string[] };
  deletion: DeletionRecord | null;
}

export interface UserDataServiceDeps {
  prisma: PrismaClient;
  cache: Cache;
  bus: EventBus;
  topics: TopicNames;
  snapshotsRoot: string;
  history: InteractionHistory;
  recommendations: Pick<RecommendationService, "forgetUser">;
  featureKeyPrefix?: string;
  onError?: (error: Error, what: string) => void;
  /** Wait before a deletion that failed (cache or bus down) is tried again (default 30 s). */
  retryDelayMs?: number;
  /**
   * Test hook, absent in production: called after each snapshot file is durably rewritten. The
   * crash test kills the process here to check that the deletion finishes after a restart.
   */
  afterSnapshotFileRewritten?: (filePath: string, rewritten: number) => void | Promise<void>;
}

type DeletionRow = {
  userId: string;
  status: string;
  requestedBy: string;
  requestedAt: Date;
  completedAt: Date | null;
  snapshotFiles: number;
  snapshotRows: number;
  cacheEntries: number;
  experimentStatRows: number;
  userRows: number;
};

function recordOf(row: DeletionRow): DeletionRecord {
  return {
    userId: row.userId,
    status: row.status === "done" ? "done" : "pending",
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    removed: {
      snapshotFiles: row.snapshotFiles,
      snapshotRows: row.snapshotRows,
      cacheEntries: row.cacheEntries,
      experimentStatRows: row.experimentStatRows,
      userRows: row.userRows,
    },
  };
}

/** A user the deployment holds nothing about: 404, so a typo is not mistaken for a deletion. */
export class UnknownUser extends AppError {
  constructor(userId: string) {
    super(
      "NOT_FOUND",
      `user ${JSON.stringify(userId)} not found: no event, cached list, experiment row or deletion request mentions them`,
    );
  }
}

/**
 * Deletion and export of one user's data. A deletion is recorded first (status "pending"), then
 * every store is cleared — this instance's memory (and, through the users topic, every other
 * instance's), the cache, the experiment statistics and the `users` row, then the snapshot files
 * — and the record is marked "done" with what was removed. Each step is idempotent, so a deletion
 * cut short (a crash, a service down) is simply run again: at the next start (`resumePending`) or
 * after `retryDelayMs`.
 */
export class UserDataService {
  private readonly running = new Map<string, Promise<DeletionRecord>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly featureKeyPrefix: string;
  private consumer: BusConsumer | null = null;
  private closed = false;

  constructor(private readonly deps: UserDataServiceDeps) {
    this.featureKeyPrefix = deps.featureKeyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX;
  }

  /** The deletion request of the user, if any. */
  async status(userId: string): Promise<DeletionRecord | null> {
    const row = await this.deps.prisma.userDeletion.findUnique({ where: { userId } });
    return row ? recordOf(row) : null;
  }

  /**
   * Records and runs the deletion. `created` is false when one was already recorded: its current
   * status is returned (a pending one is resumed here unless it is running already; a done one
   * runs again when data of the user arrived since). A run that fails leaves the record pending
   * and is retried later; the answer then says "pending".
   */
  async delete(
    userId: string,
    requestedBy: string,
  ): Promise<{ created: boolean; record: DeletionRecord }> {
    const existing = await this.status(userId);
    if (existing?.status === "done" && (await this.holdsData(userId))) {
      // Data that arrived after the deletion (new events of the same id): deleted the same way.
      await this.deps.prisma.userDeletion.update({
        where: { userId },
        data: { status: "pending", completedAt: null, requestedBy },
      });
      try {
        return { created: false, record: await this.run(userId) };
      } catch {
        return { created: false, record: (await this.status(userId))! };
      }
    }
    if (existing) {
      if (existing.status === "pending") void this.run(userId).catch(() => undefined);
      return { created: false, record: existing };
    }
    if (!(await this.holdsData(userId))) throw new UnknownUser(userId);
    try {
      await this.deps.prisma.userDeletion.create({ data: { userId, requestedBy } });
    } catch (error) {
      // Two requests at once: the other one recorded it first.
      const raced = await this.status(userId);
      if (!raced) throw error;
      return { created: false, record: raced };
    }
    try {
      return { created: true, record: await this.run(userId) };
    } catch {
      return { created: true, record: (await this.status(userId))! };
    }
  }

  /** Runs every deletion still pending (after a crash or a failure); returns how many finished. */
  async resumePending(): Promise<number> {
    const pending = await this.deps.prisma.userDeletion.findMany({
      where: { status: "pending" },
      orderBy: { id: "asc" },
    });
    let finished = 0;
    for (const row of pending) {
      if (this.closed) break;
      const record = await this.run(row.userId).catch(() => null);
      if (record?.status === "done") finished += 1;
    }
    return finished;
  }

  /** Drops what this process holds in memory about the user: history, seen items, fold-in input. */
  forgetLocally(userId: string): void {
    this.deps.history.forget(userId);
  }

  /**
   * Follows the users topic (in consumer group `groupId`, unique to this process) so a deletion
   * through any instance drops the user's memory state and cached answers here too.
   */
  async follow(groupId: string): Promise<void> {
    const consumer = this.deps.bus.consumer({
      groupId,
      topics: [this.deps.topics.users],
      startFrom: "latest",
      onCrash: (error) => this.deps.onError?.(error, "users subscription"),
    });
    this.consumer = consumer;
    await consumer.run(async (batch) => {
      for (const message of batch.messages) {
        let parsed;
        try {
          parsed = userDeletedSchema.safeParse(JSON.parse(message.value.toString("utf8")));
        } catch (error) {
          this.deps.onError?.(error as Error, "user deletion message (not JSON)");
          continue;
        }
        if (!parsed.success) {
          this.deps.onError?.(
            new Error(describeZodError(parsed.error)),
            "user deletion message (invalid)",
          );
          continue;
        }
        this.forgetLocally(parsed.data.userId);
        await this.deps.recommendations
          .forgetUser(parsed.data.userId)
          .catch((error: Error) => this.deps.onError?.(error, "user deletion: cache"));
      }
    });
  }

  /** Waits for the deletions running here, stops retries and the subscription. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.allSettled([...this.running.values()]);
    await this.consumer?.stop();
  }

  /** Everything stored about the user; 404 when there is nothing and no deletion was asked for. */
  async export(userId: string): Promise<UserExport> {
    const { prisma, cache } = this.deps;
    const [
      profile,
      stats,
      hours,
      deletion,
      events,
      recentItems,
      sharedRecentItems,
      sharedSeenItems,
    ] = await Promise.all([
      prisma.user.findUnique({ where: { externalId: userId } }),
      prisma.experimentUserStat.findMany({
        where: { userId },
        orderBy: [{ experimentKey: "asc" }, { variant: "asc" }],
      }),
      prisma.experimentUserHourStat.findMany({
        where: { userId },
        orderBy: [{ hour: "asc" }, { source: "asc" }],
      }),
      this.status(userId),
      userSnapshotEvents(this.deps.snapshotsRoot, userId),
      cache.getList(recentItemsKey(this.featureKeyPrefix, userId)),
      cache.getList(sharedRecentKey(userId)),
      cache.getSet(sharedSeenKey(userId)),
    ]);
    const nothing =
      !profile &&
      stats.length === 0 &&
      !deletion &&
      events.length === 0 &&
      recentItems.length === 0 &&
      sharedRecentItems.length === 0 &&
      sharedSeenItems.length === 0 &&
      this.deps.history.count(userId) === 0;
    if (nothing) throw new UnknownUser(userId);
    return {
      userId,
      exportedAt: new Date().toISOString(),
      profile: profile
        ? { attributes: profile.attributes, createdAt: profile.createdAt.toISOString() }
        : null,
      events,
      experiments: stats.map((row) => ({
        experimentKey: row.experimentKey,
        variant: row.variant,
        ...experimentStatCounts(row),
        preMetric: row.preMetric,
        firstExposure: row.firstExposure.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
        hours: hours
          .filter(
            (hour) => hour.experimentKey === row.experimentKey && hour.variant === row.variant,
          )
          .map((hour) => ({
            hour: hour.hour.toISOString(),
            source: hour.source,
            ...experimentStatCounts(hour),
            firstExposure: hour.firstExposure.toISOString(),
          })),
      })),
      cached: { recentItems, sharedRecentItems, sharedSeenItems: sharedSeenItems.sort() },
      deletion,
    };
  }

  private async holdsData(userId: string): Promise<boolean> {
    const { prisma, cache } = this.deps;
    if (this.deps.history.count(userId) > 0) return true;
    const [profile, stats, hours] = await Promise.all([
      prisma.user.count({ where: { externalId: userId } }),
      prisma.experimentUserStat.count({ where: { userId } }),
      prisma.experimentUserHourStat.count({ where: { userId } }),
    ]);
    if (profile + stats + hours > 0) return true;
    const lists = await Promise.all([
      cache.getList(recentItemsKey(this.featureKeyPrefix, userId)),
      cache.getList(sharedRecentKey(userId)),
      cache.getSet(sharedSeenKey(userId)),
    ]);
    if (lists.some((list) => list.length > 0)) return true;
    return (await filesWithUser(this.deps.snapshotsRoot, userId)).length > 0;
  }

  /** One run of the deletion at a time per user in this process. */
  private run(userId: string): Promise<DeletionRecord> {
    let running = this.running.get(userId);
    if (!running) {
      running = this.clear(userId)
        .catch((error: Error) => {
          this.deps.onError?.(error, `user deletion of ${JSON.stringify(userId)}`);
          this.scheduleRetry(userId);
          throw error;
        })
        .finally(() => this.running.delete(userId));
      this.running.set(userId, running);
    }
    return running;
  }

  private scheduleRetry(userId: string): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.run(userId).catch(() => undefined);
    }, this.deps.retryDelayMs ?? 30_000);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async clear(userId: string): Promise<DeletionRecord> {
    const { prisma } = this.deps;
    const count = (data: Partial<Record<keyof DeletionRecord["removed"], number>>) =>
      prisma.userDeletion.update({
        where: { userId },
        data: Object.fromEntries(
          Object.entries(data).map(([field, value]) => [field, { increment: value }]),
        ),
      });
    const request = await prisma.userDeletion.findUniqueOrThrow({ where: { userId } });
    const message: UserDeleted = {
      type: "user.deleted",
      userId,
      requestedAt: request.requestedAt.toISOString(),
    };
    // Memory first, here and (through the topic) everywhere: no answer uses the history any more.
    this.forgetLocally(userId);
    await this.deps.bus.publish(this.deps.topics.users, { key: userId, value: message });
    await count({ cacheEntries: await this.deps.recommendations.forgetUser(userId) });
    const [stats, hours, users] = await prisma.$transaction([
      prisma.experimentUserStat.deleteMany({ where: { userId } }),
      prisma.experimentUserHourStat.deleteMany({ where: { userId } }),
      prisma.user.deleteMany({ where: { externalId: userId } }),
    ]);
    await count({ experimentStatRows: stats.count + hours.count, userRows: users.count });
    // Counted file by file, so a run cut short keeps the tally of what it did.
    await eraseUserFromSnapshots(this.deps.snapshotsRoot, userId, {
      afterFileRewritten: async (filePath, rewritten, rows) => {
        await count({ snapshotFiles: 1, snapshotRows: rows });
        await this.deps.afterSnapshotFileRewritten?.(filePath, rewritten);
      },
    });
    // Answers computed while the files were rewritten may have been cached from the old history.
    this.forgetLocally(userId);
    const late = await this.deps.recommendations.forgetUser(userId);
    const done = await prisma.userDeletion.update({
      where: { userId },
      data: { status: "done", completedAt: new Date(), cacheEntries: { increment: late } },
    });
    return recordOf(done);
  }
}
