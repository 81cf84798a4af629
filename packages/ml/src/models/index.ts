import { ease } from "./ease/ease.ts";
import { UnknownModelKind } from "./errors.ts";
import { ials } from "./ials/ials.ts";
import { itemKnn } from "./item-knn.ts";
import { popularity, trending } from "./popularity.ts";
import { type FitHooks, type Recommender, resolveParameters } from "./recommender.ts";
import type { Interactions } from "../data/interactions.ts";
import { p3alpha, rp3beta } from "./rp3beta.ts";
import { content } from "./content.ts";
import { hybrid } from "./hybrid.ts";
import { userKnn } from "./user-knn.ts";

export * from "./errors.ts";
export { easeItems, easeSolve, easeWeights } from "./ease/ease.ts";
export { spdInverse } from "./ease/spd-inverse.ts";
export { foldInUser } from "./ials/fold-in.ts";
export { trainIals } from "./ials/ials.ts";
export * from "./recommender.ts";
export * from "./score.ts";
export * from "./top-k.ts";
export { PRUNE_CHOICES, type PruneBy } from "./similarity.ts";
export * from "./content.ts";
export { blendItemItem } from "./hybrid.ts";
export { fitUserUser, scoreUserUser, type UserUserModel } from "./user-knn.ts";

/** Every model kind, by name. */
export const recommenders: Record<string, Recommender> = Object.fromEntries(
  [popularity, trending, itemKnn, rp3beta, ials, ease, p3alpha].map((recommender) => [
    recommender.kind,
    recommender,
  ]),
);

/**
 * Kinds kept out of `recommenders` (whose "all" must train on interactions alone): content and
 * hybrid need item metadata (--items), user-knn is evaluation only (not exportable).
 */
export const moreRecommenders: Record<string, Recommender> = Object.fromEntries(
  [content, hybrid, userKnn].map((recommender) => [recommender.kind, recommender]),
);

export function recommenderFor(kind: string): Recommender {
  const recommender = recommenders[kind] ?? moreRecommenders[kind];
  if (!recommender)
    throw new UnknownModelKind(kind, [
      ...Object.keys(recommenders),
      ...Object.keys(moreRecommenders),
    ]);
  return recommender;
}

/** Fits a model kind with defaults filled in and the parameters validated. */
export async function fitModel(
  kind: string,
  train: Interactions,
  given: Record<string, unknown> = {},
  hooks?: FitHooks,
) {
  const recommender = recommenderFor(kind);
  const params = resolveParameters(recommender, given);
  return { params, model: await recommender.fit(train, params, hooks) };
}
