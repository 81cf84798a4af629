import { foldInStrategy, warmModelStrategy } from "./model.ts";
import { popularityStrategy } from "./popular.ts";
import type { RecommendStrategy } from "./strategy.ts";

export { Exclusion, runStrategies, type ChainAnswer } from "./chain.ts";
export { ChainContext, type ChainSettings } from "./context.ts";
export {
  candidatesFor,
  foldInStrategy,
  HistoryIndexCache,
  MAX_CANDIDATES,
  rankedItems,
  warmModelStrategy,
} from "./model.ts";
export { newItemsStrategy } from "./new-items.ts";
export { popularItems, popularityStrategy } from "./popular.ts";
export {
  fallbackReason,
  StrategyError,
  type Item,
  type RecommendInput,
  type RecommendStrategy,
  type RoutingOptions,
  type StrategyContext,
} from "./strategy.ts";

/**
 * Today's serving: warm users → the model's row; a few events → fold-in from the history; then
 * popularity — for cold users, when the model failed, and to top up a short answer.
 */
export const defaultStrategies: readonly RecommendStrategy[] = [
  warmModelStrategy,
  foldInStrategy,
  popularityStrategy,
];
