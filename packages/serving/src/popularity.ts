import type { RequestContext } from "@reco/contracts";
import { querySnapshots } from "@reco/snapshots";

export interface PopularItem {
  itemId: string;
  /** Interactions counted for the item (in its context when one was asked for). */
  count: number;
}

export interface PopularityCounts {
  global: PopularItem[];
  /** Keyed `device:<d>` / `country:<c>`; only contexts seen in the data. */
  byContext: Map<string, PopularItem[]>;
}

/**
 * Popularity over the interaction snapshots: the cold-start answer and the fallback when a model
 * fails. Kept whole in memory (one entry per item, ~10^5 items at most) and refreshed by reload.
 */
export class PopularityRanker {
  private ranked: Set<string> | undefined;

  constructor(private readonly counts: PopularityCounts) {}

  /**
   * Adds items no one interacted with yet at the end (count 0): items created after the load are
   * recommendable by popularity (within a filter, say) before the next reload counts them.
   */
  addUnranked(itemIds: Iterable<string>): void {
    this.ranked ??= new Set(this.counts.global.map((item) => item.itemId));
    for (const itemId of itemIds) {
      if (this.ranked.has(itemId)) continue;
      this.ranked.add(itemId);
      this.counts.global.push({ itemId, count: 0 });
    }
  }

  get size(): number {
    return this.counts.global.length;
  }

  /**
   * The k most popular items not in `exclude`. With a context, that context's list comes first and
   * the global list fills up the rest, so a rare context still gets k items.
   */
  top(
    k: number,
    exclude: Pick<ReadonlySet<string>, "has">,
    context?: RequestContext,
  ): PopularItem[] {
    const lists: PopularItem[][] = [];
    if (context?.device) lists.push(this.counts.byContext.get(`device:${context.device}`) ?? []);
    if (context?.country) lists.push(this.counts.byContext.get(`country:${context.country}`) ?? []);
    lists.push(this.counts.global);
    const picked: PopularItem[] = [];
    const taken = new Set<string>();
    for (const list of lists) {
      for (const item of list) {
        if (picked.length >= k) return picked;
        if (exclude.has(item.itemId) || taken.has(item.itemId)) continue;
        taken.add(item.itemId);
        picked.push(item);
      }
    }
    return picked;
  }

  /** Reads counts from the snapshots; `extraItems` (catalog order) pad items no one interacted with yet. */
  static async fromSnapshots(
    snapshotsRoot: string,
    extraItems: string[] = [],
  ): Promise<PopularityRanker> {
    const rows = await querySnapshots<{ item_id: string; scope: string; n: bigint }>(
      snapshotsRoot,
      `SELECT item_id, scope, count(*) AS n FROM (
         SELECT item_id, 'global' AS scope FROM {source}
           WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL
         UNION ALL SELECT item_id, 'device:' || device FROM {source}
           WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL AND device IS NOT NULL
         UNION ALL SELECT item_id, 'country:' || country FROM {source}
           WHERE type IN ('watch', 'rate', 'click') AND item_id IS NOT NULL AND country IS NOT NULL
       ) GROUP BY item_id, scope ORDER BY n DESC, item_id`,
    );
    const global: PopularItem[] = [];
    const byContext = new Map<string, PopularItem[]>();
    for (const row of rows) {
      const item = { itemId: row.item_id, count: Number(row.n) };
      if (row.scope === "global") global.push(item);
      else {
        const list = byContext.get(row.scope) ?? [];
        list.push(item);
        byContext.set(row.scope, list);
      }
    }
    const seen = new Set(global.map((item) => item.itemId));
    for (const itemId of extraItems) if (!seen.has(itemId)) global.push({ itemId, count: 0 });
    return new PopularityRanker({ global, byContext });
  }
}
