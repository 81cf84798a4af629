import { AppError, reasonOf, type RequestContext } from "@reco/contracts";
import type { InferenceBatcher } from "../batcher.ts";
import type { Catalog, ItemFilter } from "../catalog.ts";
import type { InteractionHistory } from "../history.ts";
import type { LoadedModel, ModelRef } from "../model-pool.ts";
import type { PopularityRanker } from "../popularity.ts";
import { isFallbackReason, type FallbackReason } from "../reasons.ts";
import type { Recommendation } from "../schemas.ts";

export type Item = Recommendation["items"][number];

export interface RecommendInput {
  userId: string;
  k: number;
  exclude: string[];
  context: RequestContext;
  /** Categories the answer keeps to (applied before the top-k cut; part of the cache key). */
  filter?: ItemFilter;
}

export interface RoutingOptions {
  /** Below this many interactions a user gets contextual popularity (cold). */
  foldInMinInteractions: number;
  /** From this many, a user the model was trained on is scored by the model directly (warm). */
  warmMinInteractions: number;
}

/** What one request's strategies see. Built once per uncached answer by RecommendationService. */
export interface StrategyContext {
  readonly input: RecommendInput;
  /** The version the resolver chose; null when there is none (or the resolver failed). */
  readonly ref: ModelRef | null;
  /**
   * The user's recent history, oldest first: this process's latest items (bounded), then what
   * reached other instances. Every item ever seen is in `exclude` and `seenIndices`.
   */
  readonly seen: readonly string[];
  /** Never to be returned: the history, the request's excludes and the items already answered. */
  readonly exclude: Pick<ReadonlySet<string>, "has">;
  readonly routing: RoutingOptions;
  /**
   * How many candidates to ask a model for (≥ k): more when the filter or unavailable items will
   * drop some, so that k remain after them.
   */
  readonly scoreK: number;
  /** Fold-in uses at most this many of the most recent history items. */
  readonly foldInHistory: number;
  readonly batcher: InferenceBatcher;
  readonly catalog: Catalog;
  readonly popularity: PopularityRanker;
  readonly history: InteractionHistory;
  /** `ref` loaded (once per request); rejects with the load error, or when there is no `ref`. */
  model(): Promise<LoadedModel>;
  /**
   * The model's indices of the user's recent history (`seen`, in order), kept across requests until
   * either changes: what fold-in starts from.
   */
  historyIndices(loaded: LoadedModel): number[];
  /**
   * The model's indices of every item the user ever interacted with (however long the history),
   * ascending: what the model must never return.
   */
  seenIndices(loaded: LoadedModel): number[];
}

/**
 * One way to fill an answer. RecommendationService runs its strategies in order until the answer
 * holds k items; items a strategy returns that are excluded or already answered are dropped.
 */
export interface RecommendStrategy {
  /**
   * The `reco_recommendations_total{source}` label when this strategy supplies the answer's first
   * items (e.g. "model", "foldin", "popularity").
   */
  readonly name: string;
  /** Whether it takes part in this request (default: yes). Throwing counts as `fill` throwing. */
  applies?(ctx: StrategyContext): boolean | Promise<boolean>;
  /**
   * Up to `want` items. Throwing makes the answer a fallback (`fallbackReason`, counted once per
   * answer in `reco_fallbacks_total{reason}`, see `fallbackReason`) and the next strategy goes on.
   */
  fill(ctx: StrategyContext, want: number): Item[] | Promise<Item[]>;
}

/**
 * A strategy's failure that names its fallback reason (the answer's `fallbackReason` and the metric
 * label): one of FALLBACK_REASONS (`empty_result`, `no_model`), or a custom strategy's own code.
 */
export class StrategyError extends AppError {
  declare readonly reason: string;
  constructor(
    reason: FallbackReason | (string & {}),
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super("INTERNAL", message, undefined, { reason, cause: options.cause });
  }
}

/**
 * Why a strategy (or the resolver) failed, as the answer's `fallbackReason` and a metric label: the
 * error's stable `reason` when FALLBACK_REASONS lists it or a StrategyError names it, else
 * `inference_error` (so the label set stays known). Never the error's name or message: an error
 * rebuilt from the inference thread keeps its reason, not its class.
 */
export function fallbackReason(error: unknown): string {
  const reason = reasonOf(error);
  if (reason !== undefined && (error instanceof StrategyError || isFallbackReason(reason)))
    return reason;
  return "inference_error";
}
