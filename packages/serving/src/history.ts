import { querySnapshots } from "@reco/snapshots";

/** Most recent items kept per user: enough for seen-filtering and fold-in, bounded in memory. */
const MAX_PER_USER = 1000;

/**
 * What each user interacted with, oldest first: loaded from the snapshots at start and extended by
 * the feedback this process receives. Serves seen-item filtering and cold/warm routing.
 */
export class InteractionHistory {
  private readonly byUser = new Map<string, string[]>();

  items(userId: string): readonly string[] {
    return this.byUser.get(userId) ?? [];
  }

  count(userId: string): number {
    return this.byUser.get(userId)?.length ?? 0;
  }

  get users(): number {
    return this.byUser.size;
  }

  record(userId: string, itemId: string): void {
    let items = this.byUser.get(userId);
    if (!items) this.byUser.set(userId, (items = []));
    const at = items.indexOf(itemId);
    if (at >= 0) items.splice(at, 1); // keep one entry per item, at its latest position
    items.push(itemId);
    if (items.length > MAX_PER_USER) items.splice(0, items.length - MAX_PER_USER);
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
