import type { ServingMetrics } from "../metrics.ts";
import {
  fallbackReason,
  type Item,
  type RecommendStrategy,
  type StrategyContext,
} from "./strategy.ts";

/**
 * What a user must not be shown: their history (shared, not copied per request) plus the request's
 * own excludes and whatever this answer already holds, and every item `admit` refuses (not
 * available now, outside the request's filter).
 */
export class Exclusion {
  private readonly extra: Set<string>;
  /**
   * Items found not excluded in this request: the chain checks again what a strategy checked
   * already, and the second check is then one lookup in this small set. `add` takes an item out.
   */
  private readonly passed = new Set<string>();
  constructor(
    private readonly seen: Pick<ReadonlySet<string>, "has">,
    extra: Iterable<string>,
    private readonly admit?: (itemId: string) => boolean,
  ) {
    this.extra = new Set(extra);
  }
  has(itemId: string): boolean {
    if (this.passed.has(itemId)) return false;
    if (this.seen.has(itemId) || this.refused(itemId)) return true;
    this.passed.add(itemId);
    return false;
  }
  /**
   * `has` for an item a model ranked with every seen item excluded by index (a ScoreRequest's
   * `exclude`, from `seenIndices`): the history is not looked up again — per item a string lookup
   * and a binary search, the costliest part of an answer's checks (bench/serve/README.md) — only the
   * request's excludes, the answer so far and `admit`.
   */
  hasScored(itemId: string): boolean {
    if (this.passed.has(itemId)) return false;
    if (this.refused(itemId)) return true;
    this.passed.add(itemId);
    return false;
  }
  add(itemId: string): void {
    this.extra.add(itemId);
    this.passed.delete(itemId);
  }
  private refused(itemId: string): boolean {
    return this.extra.has(itemId) || (this.admit !== undefined && !this.admit(itemId));
  }
}

export interface ChainAnswer {
  items: Item[];
  /** Set when the answer is a fallback: the reason given, else the first strategy failure's. */
  fallbackReason?: string;
}

/**
 * Runs the strategies in order until the answer holds `ctx.input.k` items (Gorse's
 * RecommendSequential): each one that applies adds the items it returns that are not excluded, and
 * they join the exclusion. A strategy that throws makes the answer a fallback — the first failure
 * names the reason — and the next one goes on. Counts the answer once in
 * `reco_recommendations_total{source}` (the strategy that gave its first item, else the last that
 * ran) and, if it is a fallback, once in `reco_fallbacks_total{reason}`.
 */
export async function runStrategies(
  strategies: readonly RecommendStrategy[],
  ctx: StrategyContext,
  exclude: Exclusion,
  metrics: ServingMetrics,
  /** A reason known before any strategy runs (the resolver found no model). */
  reason?: string,
): Promise<ChainAnswer> {
  const k = ctx.input.k;
  const items: Item[] = [];
  let source: string | undefined;
  let lastRan = "none";
  for (const strategy of strategies) {
    if (items.length >= k) break;
    try {
      // Sync answers are not awaited: each await is a turn of the microtask queue per request.
      let applies = strategy.applies?.(ctx) ?? true;
      if (typeof applies !== "boolean") applies = await applies;
      if (!applies) continue;
      lastRan = strategy.name;
      let added = strategy.fill(ctx, k - items.length);
      if (!Array.isArray(added)) added = await added;
      for (const item of added) {
        if (items.length >= k) break;
        if (exclude.has(item.itemId)) continue;
        exclude.add(item.itemId);
        items.push(item);
        source ??= strategy.name;
      }
    } catch (error) {
      reason ??= fallbackReason(error);
    }
  }
  if (reason !== undefined) metrics.fallbacks.inc({ reason });
  metrics.recommendations.inc({ source: source ?? lastRan });
  return reason === undefined ? { items } : { items, fallbackReason: reason };
}
