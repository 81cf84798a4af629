import type { RequestContext } from "@reco/contracts";
import type { Catalog } from "../catalog.ts";
import type { PopularityRanker } from "../popularity.ts";
import type { Item, RecommendStrategy } from "./strategy.ts";

/** The `k` most popular items not excluded (in the request's context first), as answer items. */
export function popularItems(
  popularity: PopularityRanker,
  catalog: Catalog,
  k: number,
  exclude: Pick<ReadonlySet<string>, "has">,
  context: RequestContext,
  reason: string,
): Item[] {
  return popularity.top(k, exclude, context).map((item) => {
    const title = catalog.get(item.itemId)?.title;
    return {
      itemId: item.itemId,
      score: item.count,
      ...(title === undefined ? {} : { title }),
      reason,
    };
  });
}

/** Contextual popularity (reason "popular"): cold users, fallbacks, and the top-up of short answers. */
export const popularityStrategy: RecommendStrategy = {
  name: "popularity",
  fill: (ctx, want) =>
    popularItems(ctx.popularity, ctx.catalog, want, ctx.exclude, ctx.input.context, "popular"),
};
