import { contentTokens } from "@reco/ml";
import type { Catalog, CatalogItem } from "../catalog.ts";
import type { LoadedModel } from "../model-pool.ts";
import type { Item, RecommendStrategy, StrategyContext } from "./strategy.ts";

/** Of the user's recent history, how many items new items are compared with (newest first). */
const HISTORY_COMPARED = 50;

const tokensOf = (item: CatalogItem): string[] =>
  contentTokens({ title: item.title, categories: item.genres, tags: item.tags ?? [] });

/**
 * The catalog's content tokens and their TF-IDF weighting (the content model's: idf = ln(N / df),
 * binary tf, rows L2-normalised), made once per catalog version and shared by every model.
 */
interface CatalogContent {
  version: string;
  tokens: Map<string, string[]>;
  idf: Map<string, number>;
}

/** The catalog items one model never saw, with their unit TF-IDF vectors, for one catalog version. */
interface NewItems {
  version: string;
  items: { itemId: string; vector: Map<string, number> }[];
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

function catalogContent(catalog: Catalog, version: string): CatalogContent {
  const tokens = new Map<string, string[]>();
  const df = new Map<string, number>();
  let described = 0;
  for (const itemId of catalog.ids()) {
    const itemTokens = tokensOf(catalog.get(itemId)!);
    tokens.set(itemId, itemTokens);
    if (itemTokens.length > 0) described++;
    for (const token of itemTokens) df.set(token, (df.get(token) ?? 0) + 1);
  }
  const idf = new Map([...df].map(([token, count]) => [token, Math.log(described / count)]));
  return { version, tokens, idf };
}

function newItemsOf(catalog: Catalog, content: CatalogContent, loaded: LoadedModel): NewItems {
  const items: NewItems["items"] = [];
  for (const [itemId, tokens] of content.tokens) {
    if (!isNewTo(loaded, catalog.get(itemId)!)) continue;
    const vector = unitVector(tokens, content.idf);
    if (vector.size > 0) items.push({ itemId, vector });
  }
  return { version: content.version, items };
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
  // Made again only when the catalog changes: several models served side by side (an experiment's
  // arms, a rollout's stages) each keep their own new items instead of rebuilding on every switch.
  let content: CatalogContent | undefined;
  const newItemsByModel = new WeakMap<LoadedModel, NewItems>();
  return {
    name: "new_items",
    applies: (ctx) =>
      slots > 0 && ctx.ref !== null && ctx.seen.length >= ctx.routing.foldInMinInteractions,
    async fill(ctx: StrategyContext, want: number): Promise<Item[]> {
      const loaded = await ctx.model();
      const version = ctx.catalog.version();
      if (content?.version !== version) content = catalogContent(ctx.catalog, version);
      let newItems = newItemsByModel.get(loaded);
      if (newItems?.version !== version) {
        newItems = newItemsOf(ctx.catalog, content, loaded);
        newItemsByModel.set(loaded, newItems);
      }
      if (newItems.items.length === 0) return [];
      const { tokens, idf } = content;
      const history = ctx.seen.slice(-HISTORY_COMPARED).flatMap((itemId) => {
        const itemTokens = tokens.get(itemId);
        return itemTokens === undefined ? [] : [unitVector(itemTokens, idf)];
      });
      const scored: Item[] = [];
      for (const { itemId, vector } of newItems.items) {
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
