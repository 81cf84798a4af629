import type { InferenceBatcher } from "../batcher.ts";
import type { Catalog } from "../catalog.ts";
import type { InteractionHistory } from "../history.ts";
import type { LoadedModel, ModelPool, ModelRef } from "../model-pool.ts";
import type { PopularityRanker } from "../popularity.ts";
import type { Exclusion } from "./chain.ts";
import { candidatesFor, type HistoryIndexCache } from "./model.ts";
import {
  StrategyError,
  type RecommendInput,
  type RoutingOptions,
  type StrategyContext,
} from "./strategy.ts";

/** What every request's context shares: one per RecommendationService. */
export interface ChainSettings {
  pool: ModelPool;
  batcher: InferenceBatcher;
  /** Getters: catalog and popularity are reloaded in the background and swapped in. */
  popularity: () => PopularityRanker;
  catalog: () => Catalog;
  history: InteractionHistory;
  routing: RoutingOptions;
  foldInHistory: number;
  historyIndices: HistoryIndexCache;
  /** The most candidates a model is asked for in a filtered answer (default MAX_CANDIDATES). */
  maxFilterCandidates?: number;
}

/** One request's StrategyContext (a class: nothing is allocated per request but the instance). */
export class ChainContext implements StrategyContext {
  private loading: Promise<LoadedModel> | undefined;

  constructor(
    private readonly settings: ChainSettings,
    readonly input: RecommendInput,
    readonly ref: ModelRef | null,
    readonly seen: readonly string[],
    /** The part of `seen` that reached other instances (it versions the history's indices). */
    private readonly elsewhere: readonly string[],
    readonly exclude: Exclusion,
    /** Other items seen elsewhere (not in `seen`): excluded, never folded in. */
    private readonly seenElsewhere: readonly string[] = [],
  ) {}

  private candidates: number | undefined;
  get scoreK(): number {
    this.candidates ??= candidatesFor(
      this.input.k,
      this.catalog,
      this.input.filter,
      this.settings.maxFilterCandidates,
    );
    return this.candidates;
  }
  get routing(): RoutingOptions {
    return this.settings.routing;
  }
  get foldInHistory(): number {
    return this.settings.foldInHistory;
  }
  get batcher(): InferenceBatcher {
    return this.settings.batcher;
  }
  get catalog(): Catalog {
    return this.settings.catalog();
  }
  get popularity(): PopularityRanker {
    return this.settings.popularity();
  }
  get history(): InteractionHistory {
    return this.settings.history;
  }

  model(): Promise<LoadedModel> {
    this.loading ??= this.ref
      ? this.settings.pool.get(this.ref)
      : Promise.reject(new StrategyError("no_model", "no model version to serve"));
    return this.loading;
  }

  historyIndices(loaded: LoadedModel): number[] {
    const { userId } = this.input;
    const version = `${this.settings.history.version(userId)}\n${this.elsewhere.join("\n")}`;
    return this.settings.historyIndices.get(loaded, userId, this.seen, version);
  }

  seenIndices(loaded: LoadedModel): number[] {
    const { userId } = this.input;
    const { history } = this.settings;
    const extra =
      this.seenElsewhere.length === 0 ? this.elsewhere : [...this.elsewhere, ...this.seenElsewhere];
    const version = `${history.version(userId)}\n${extra.join("\n")}`;
    return this.settings.historyIndices.kept(loaded, `seen\n${userId}`, version, () => {
      const indices = history.seenIndices(userId, loaded.itemIndex);
      if (extra.length === 0) return indices;
      const known = history.seen(userId);
      for (const itemId of extra) {
        const index = loaded.itemIndex.get(itemId);
        if (index !== undefined && !known.has(itemId)) indices.push(index);
      }
      return indices.sort((a, b) => a - b);
    });
  }
}
