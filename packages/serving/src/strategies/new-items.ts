import { contentTokens } from "@reco/ml";
import type { Catalog, CatalogItem } from "../catalog.ts";
import type { LoadedModel } from "../model-pool.ts";
import type { Item, RecommendStrategy, StrategyContext } from "./strategy.ts";

/** Of the user's recent history, how many items new items are compared with (newest first). */
const HISTORY_COMPARED = 50;

const tokensOf = (item: CatalogItem): string[] =>
  contentTokens({ title: item.title, categories: item.genres, tags: item.tags ?? [] });

/**
 * TF-IDF of the catalog's content tokens (the content model's weighting: idf = ln(N / df), binary
 * tf, rows L2-normalised), and which catalog items the model does not know: rebuilt when the
 * catalog's version or the model changes, so a request pays only for its own comparisons.
 */
interface NewItemIndex {
  /** model key + catalog version */
  key: string;
  idf: Map<string, number>;
  /** items the catalog holds and the model never saw, with their unit TF-IDF vectors */
  newItems: { itemId: string; vector: Map<string, number> }[];
}

function unitVector(tokens: readonly string[], idf: ReadonlyMap<string, number>) {
  const vector = new Map<string, number>();
  for (const token of tokens) {
    const weight = idf.get(token) ?? 0;
    if (weight > 0) vector.set(token, weight);
  }
  let norm = 0;
  for (const weight of vector.values()) norm += weight * weight;
  norm = Math.sqrt(norm);
  for (const [token, weight] of vector) vector.set(token, weight / norm);
  return vector;
}

/**
 * An item the model does not know and that was created after the model was trained. Catalog items
 * older than the model that it never saw (imported, never interacted with) are not new: they had
 * their chance in training, and leading every answer with them would crowd out the model.
 */
function isNewTo(loaded: LoadedModel, item: CatalogItem): boolean {
  if (loaded.itemIndex.has(item.itemId)) return false;
  const trainedAt = loaded.model.createdAt;
  return trainedAt === undefined || item.createdAt === undefined || item.createdAt > trainedAt;
}

function buildIndex(catalog: Catalog, loaded: LoadedModel, key: string): NewItemIndex {
  const df = new Map<string, number>();
  let described = 0;
  const unknown: { itemId: string; tokens: string[] }[] = [];
  for (const itemId of catalog.ids()) {
    const item = catalog.get(itemId)!;
    const tokens = tokensOf(item);
    if (tokens.length > 0) described++;
    for (const token of tokens) df.set(token, (df.get(token) ?? 0) + 1);
    if (isNewTo(loaded, item)) unknown.push({ itemId, tokens });
  }
  const idf = new Map([...df].map(([token, count]) => [token, Math.log(described / count)]));
  const newItems = unknown
    .map(({ itemId, tokens }) => ({ itemId, vector: unitVector(tokens, idf) }))
    .filter(({ vector }) => vector.size > 0);
  return { key, idf, newItems };
}

/**
 * New items from content, in their first minute: catalog items the served model was trained
 * without (created through the item API since) are compared with the user's recent history by
 * the cosine of their categories, tags and title words, and up to `slots` of them with a positive
 * summed similarity lead the answer (reason "new_similar_content"); the model and popularity fill
 * the rest. Users the model would not personalise (cold) are left to popularity, as are new items
 * that share no content token with the history. Items the next retraining sees join the model and
 * leave this path.
 */
export function newItemsStrategy(slots: number): RecommendStrategy {
  let index: NewItemIndex | undefined;
  return {
    name: "new_items",
    applies: (ctx) =>
      slots > 0 && ctx.ref !== null && ctx.seen.length >= ctx.routing.foldInMinInteractions,
    async fill(ctx: StrategyContext, want: number): Promise<Item[]> {
      const loaded = await ctx.model();
      const key = `${loaded.key}\n${ctx.catalog.version()}`;
      if (index?.key !== key) index = buildIndex(ctx.catalog, loaded, key);
      if (index.newItems.length === 0) return [];
      const history = ctx.seen
        .slice(-HISTORY_COMPARED)
        .map((itemId) => ctx.catalog.get(itemId))
        .filter((item): item is CatalogItem => item !== undefined)
        .map((item) => unitVector(tokensOf(item), index!.idf));
      const scored: Item[] = [];
      for (const { itemId, vector } of index.newItems) {
        if (ctx.exclude.has(itemId)) continue;
        let score = 0;
        for (const seen of history)
          for (const [token, weight] of vector) score += weight * (seen.get(token) ?? 0);
        if (score > 0) {
          const title = ctx.catalog.get(itemId)?.title;
          scored.push({
            itemId,
            score,
            ...(title === undefined ? {} : { title }),
            reason: "new_similar_content",
          });
        }
      }
      scored.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
      return scored.slice(0, Math.min(slots, want));
    },
  };
}
