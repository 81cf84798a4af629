import { GrowingLru } from "@reco/cache";
import type { InferenceBatcher } from "../batcher.ts";
import { hasFilter, type Catalog, type ItemFilter } from "../catalog.ts";
import type { LoadedModel, ScoreRequest } from "../model-pool.ts";
import { contains } from "../seen.ts";
import { Exclusion } from "./chain.ts";
import {
  StrategyError,
  type Item,
  type RecommendStrategy,
  type StrategyContext,
} from "./strategy.ts";

/** The model's indices of the ids it knows, appended to `into` (ids it never saw are skipped). */
function knownIndices(loaded: LoadedModel, ids: readonly string[], into: number[]): number[] {
  for (const id of ids) {
    const index = loaded.itemIndex.get(id);
    if (index !== undefined) into.push(index);
  }
  return into;
}

/**
 * The model indices of users' histories (and of everything they saw), kept until the history or
 * the model changes: mapping a few hundred ids per request costs more than scoring them. Bounded by
 * count and by indices held (5M ≈ 40 MB of numbers).
 */
export class HistoryIndexCache {
  private readonly cache = new GrowingLru<string, { version: string; indices: number[] }>(100_000, {
    maxSize: 5_000_000,
    sizeCalculation: (value) => value.indices.length + 1,
  });

  /** `version` changes whenever `seen` does. */
  get(loaded: LoadedModel, userId: string, seen: readonly string[], version: string): number[] {
    return this.kept(loaded, `recent\n${userId}`, version, () => knownIndices(loaded, seen, []));
  }

  /** What `compute` gives for (model, key), recomputed when `version` changes. */
  kept(loaded: LoadedModel, key: string, version: string, compute: () => number[]): number[] {
    const cacheKey = `${loaded.key}\n${key}`;
    const kept = this.cache.get(cacheKey);
    if (kept?.version === version) return kept.indices;
    const indices = compute();
    this.cache.set(cacheKey, { version, indices });
    return indices;
  }
}

/**
 * The default of the most candidates asked of a model for one filtered answer
 * (`maxFilterCandidates`); beyond it, popularity within the filter tops the answer up. The model's
 * TopK grows dearer with k (at 100k items, a batch of 16: k = 64 costs about what k = 10 does, 128
 * about 1.3–1.9×, 256 1.5–2.4×), and a filtered request is to cost at most twice an unfiltered one:
 * bench/filters measured 1.42× (5 % category) and 1.65× (1 %) at 64, 1.82× and 2.06× at 128, with
 * 3.1 and 0.7 of 10 items from the model at 64, 6.5 and 1.4 at 128.
 */
export const MAX_CANDIDATES = 64;

/**
 * How many of a model's best to ask for so that about `k` remain once the filter and the
 * unavailable items are dropped: k over the share of the catalog they let through, with a margin,
 * at most `max` (k when everything passes).
 */
export function candidatesFor(
  k: number,
  catalog: Catalog,
  filter: ItemFilter | undefined,
  max = MAX_CANDIDATES,
): number {
  const share = catalog.selectivity(filter);
  if (share >= 1) return k;
  return Math.max(k, Math.min(max, Math.ceil((k / share) * 1.25) + 5));
}

/**
 * The model's top `k` as answer items: unknown and excluded items dropped, titles from the catalog.
 * The model is asked for `candidates` (≥ k) so that the excluded ones leave k. A model may return
 * what it was told to exclude (nothing is trusted): with an ascending Int32Array `request.exclude`
 * (excludeIndices: every seen item's index), an index is checked there, by binary search, instead of
 * looking its id up in the user's history (`Exclusion.hasScored`).
 */
export async function rankedItems(
  batcher: InferenceBatcher,
  catalog: Catalog,
  loaded: LoadedModel,
  request: ScoreRequest,
  k: number,
  exclude: Pick<ReadonlySet<string>, "has">,
  reason: string,
  candidates = k,
): Promise<Item[]> {
  const ranked = await batcher.score(
    loaded,
    request,
    Math.max(k, Math.min(candidates, loaded.model.nItems)),
  );
  const items: Item[] = [];
  const told = request.exclude instanceof Int32Array ? request.exclude : undefined;
  const excluded =
    told && exclude instanceof Exclusion
      ? (itemId: string, index: number) => contains(told, index) || exclude.hasScored(itemId)
      : (itemId: string) => exclude.has(itemId);
  ranked.itemIndices.forEach((index, i) => {
    const itemId = loaded.model.itemIds[index];
    if (itemId === undefined || items.length >= k || excluded(itemId, index)) return;
    const title = catalog.get(itemId)?.title;
    items.push({
      itemId,
      score: ranked.scores[i]!,
      ...(title === undefined ? {} : { title }),
      reason,
    });
  });
  return items;
}

/** Not cold: a model to serve and at least `foldInMinInteractions` events. */
function personalised(ctx: StrategyContext): boolean {
  return ctx.ref !== null && ctx.seen.length >= ctx.routing.foldInMinInteractions;
}

/** Scored by the model's user row: a user it knows with ≥ `warmMinInteractions` events (or a popularity model). */
function warm(ctx: StrategyContext, loaded: LoadedModel): boolean {
  return (
    loaded.model.kind === "popularity" ||
    (loaded.userIndex.has(ctx.input.userId) && ctx.seen.length >= ctx.routing.warmMinInteractions)
  );
}

/**
 * The model's top k for `request` (the request's k: items already answered are dropped from it),
 * excluding the user's history and the request's excludes. Throws empty_result when nothing is left.
 */
async function score(
  ctx: StrategyContext,
  loaded: LoadedModel,
  request: ScoreRequest,
  reason: string,
): Promise<Item[]> {
  const items = await rankedItems(
    ctx.batcher,
    ctx.catalog,
    loaded,
    request,
    ctx.input.k,
    ctx.exclude,
    reason,
    ctx.scoreK,
  );
  // With a filter, none of the candidates passing is an answer (popularity within the filter
  // fills it), not a failure: it is neither a fallback nor left uncached.
  if (items.length === 0 && !hasFilter(ctx.input.filter))
    throw new StrategyError("empty_result", "model returned no items");
  return items;
}

/**
 * Every item the user saw (not only the recent ones), plus the request's excludes, as model indices:
 * an exactly sized, ascending Int32Array (see ScoreRequest.exclude and rankedItems).
 */
function excludeIndices(ctx: StrategyContext, loaded: LoadedModel): Int32Array {
  const seenIndices = ctx.seenIndices(loaded); // ascending, the same array until the history changes
  const { exclude } = ctx.input;
  // Excludes the model does not know (new items, ids of elsewhere) add nothing to exclude by index.
  const extra = exclude.length === 0 ? [] : knownIndices(loaded, exclude, []);
  if (extra.length === 0) {
    let indices = seenAsInt32.get(seenIndices);
    if (!indices) seenAsInt32.set(seenIndices, (indices = Int32Array.from(seenIndices)));
    return indices;
  }
  const indices = new Int32Array(seenIndices.length + extra.length);
  indices.set(seenIndices);
  indices.set(extra, seenIndices.length);
  return indices.sort();
}

/**
 * seenIndices' arrays as Int32Arrays, made once per array (they are kept across requests until the
 * user's history changes): without the request's own excludes, a request sends one as it is.
 */
const seenAsInt32 = new WeakMap<readonly number[], Int32Array>();

function scoringContext(ctx: StrategyContext): ScoreRequest["context"] {
  return { device: ctx.input.context.device, country: ctx.input.context.country };
}

/**
 * Warm users: the model's row for them (reason "personalized"). Takes part for every user who is not
 * cold; returns nothing for the others (fold-in's), so a model that fails to load fails here.
 */
export const warmModelStrategy: RecommendStrategy = {
  name: "model",
  applies: personalised,
  async fill(ctx) {
    const loaded = await ctx.model();
    if (!warm(ctx, loaded)) return [];
    const exclude = excludeIndices(ctx, loaded);
    const context = scoringContext(ctx);
    const request =
      loaded.model.kind === "popularity"
        ? { context, exclude }
        : { userIndex: loaded.userIndex.get(ctx.input.userId), exclude, context };
    return score(ctx, loaded, request, "personalized");
  },
};

/**
 * Users with a few events (or unknown to the model): fold-in / item-item from their most recent
 * `foldInHistory` items the model knows (reason "similar_to_recent"). Returns nothing for warm users.
 */
export const foldInStrategy: RecommendStrategy = {
  name: "foldin",
  applies: personalised,
  async fill(ctx) {
    const loaded = await ctx.model();
    if (warm(ctx, loaded)) return [];
    const historyIndices = ctx.historyIndices(loaded).slice(-ctx.foldInHistory);
    if (historyIndices.length === 0)
      throw new StrategyError("empty_result", "no history item known to the model");
    const exclude = excludeIndices(ctx, loaded);
    const request = { historyIndices, exclude, context: scoringContext(ctx) };
    return score(ctx, loaded, request, "similar_to_recent");
  },
};
