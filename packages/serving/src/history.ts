import { querySnapshots } from "@reco/snapshots";

/** Most recent items kept per user: enough for seen-filtering and fold-in, bounded in memory. */
const MAX_PER_USER = 1000;
const EMPTY: ReadonlySet<string> = new Set();

/**
 * What each user interacted with, oldest first: loaded from the snapshots at start and extended by
 * the feedback this process receives. Serves seen-item filtering and cold/warm routing.
 */
export class InteractionHistory {
  /** Per user: items oldest first, and the same items as a set for seen-filtering per request. */
  private readonly byUser = new Map<
    string,
    { items: string[]; set: Set<string>; version: number }
  >();

  items(userId: string): readonly string[] {
    return this.byUser.get(userId)?.items ?? [];
  }

  /** The same items as `items`, for membership tests without building a set per request. */
  seen(userId: string): ReadonlySet<string> {
    return this.byUser.get(userId)?.set ?? EMPTY;
  }

  /** Changes whenever the user's history does: lets callers keep what they derived from it. */
  version(userId: string): number {
    return this.byUser.get(userId)?.version ?? 0;
  }

  count(userId: string): number {
    return this.byUser.get(userId)?.items.length ?? 0;
  }

  get users(): number {
    return this.byUser.size;
  }

  record(userId: string, itemId: string): void {
    let user = this.byUser.get(userId);
    if (!user) this.byUser.set(userId, (user = { items: [], set: new Set(), version: 0 }));
    user.version += 1;
    const { items, set } = user;
    if (set.has(itemId)) items.splice(items.indexOf(itemId), 1); // one entry per item, at its latest position
    items.push(itemId);
    set.add(itemId);
    if (items.length > MAX_PER_USER)
      for (const dropped of items.splice(0, items.length - MAX_PER_USER)) set.delete(dropped);
  }

  static async fromSnapshots(snapshotsRoot: string): Promise<InteractionHistory> {
    const history = new InteractionHistory();
    const rows = await querySnapshots<{ user_id: string; item_id: string }>(
      snapshotsRoot,
      `SELECT user_id, item_id FROM {source}
        WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL
        ORDER BY event_time, event_id`,
    );
    for (const row of rows) history.record(row.user_id, row.item_id);
    return history;
  }
}
