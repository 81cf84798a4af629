import type { BusConsumer, EventBus } from "@reco/bus";
import { catalogChangeSchema, describeZodError } from "@reco/contracts";
import { catalogItemOfChange, type CatalogItem } from "./catalog.ts";

export interface CatalogSubscriptionDeps {
  bus: EventBus;
  /** The catalog topic (`topicNames().catalog`). */
  topic: string;
  /** Unique to this process: every instance must get every change. */
  groupId: string;
  /** Applies changes to this instance's catalog. */
  apply: (items: CatalogItem[]) => void;
  /**
   * Reloads the catalog from the database: called once the subscription is running (so nothing
   * written between the first load and the subscription is missed) and after a restart of it.
   */
  resync: () => Promise<void>;
  onError: (error: Error, what: string) => void;
  /** Wait before a crashed subscription starts again (default 1 s). */
  restartDelayMs?: number;
}

export interface CatalogSubscription {
  stop(): Promise<void>;
}

/**
 * Follows the catalog topic from its end, in a consumer group of this process's own, and applies
 * each change; nothing is committed (a new process reads the database instead). A change that does
 * not parse is reported and skipped. A consumer that crashes is started again, followed by a resync.
 */
export async function subscribeCatalogChanges(
  deps: CatalogSubscriptionDeps,
): Promise<CatalogSubscription> {
  let consumer: BusConsumer | null = null;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = async (): Promise<void> => {
    const member = deps.bus.consumer({
      groupId: deps.groupId,
      topics: [deps.topic],
      startFrom: "latest",
      onCrash: (error) => {
        deps.onError(error, "catalog subscription");
        if (stopped) return;
        restartTimer = setTimeout(() => void restart(), deps.restartDelayMs ?? 1_000);
      },
    });
    consumer = member;
    await member.run(async (batch) => {
      const items: CatalogItem[] = [];
      for (const message of batch.messages) {
        let json: unknown;
        try {
          json = JSON.parse(message.value.toString("utf8"));
        } catch (error) {
          deps.onError(error as Error, "catalog change (not JSON)");
          continue;
        }
        const parsed = catalogChangeSchema.safeParse(json);
        if (parsed.success) items.push(catalogItemOfChange(parsed.data));
        else deps.onError(new Error(describeZodError(parsed.error)), "catalog change (invalid)");
      }
      if (items.length > 0) deps.apply(items);
    });
    await deps.resync();
  };

  const restart = async (): Promise<void> => {
    if (stopped) return;
    try {
      await start();
    } catch (error) {
      deps.onError(error as Error, "catalog subscription");
      if (!stopped) restartTimer = setTimeout(() => void restart(), deps.restartDelayMs ?? 1_000);
    }
  };

  await start();
  return {
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await consumer?.stop();
    },
  };
}
