import type { ModelStage, ModelVersionStore } from "@reco/db";
import { NotFound, Unavailable, type TopicNames } from "@reco/contracts";
import {
  DEFAULT_SHARED_HISTORY_TTL_MS,
  EventQueue,
  FixedModelResolver,
  InferenceBatcher,
  ServingMetrics,
  RecommendationService,
  modelKey,
  type EventQueueOptions,
  type ModelRef,
  type RecommendationServiceDeps,
  type ServingRuntime,
} from "@reco/serving";

/** Stages whose versions can answer a request (retired ones are not loaded any more). */
const SERVABLE_STAGES: readonly ModelStage[] = ["stable", "canary", "candidate"];
/**
 * Columns side by side: the stable version first, then the newest others. No more than the api's
 * model pool holds by default (3), so showing them does not evict the versions serving traffic.
 */
export const MAX_VERSIONS = 3;
/** Fold-in reads at most this many picked items, as serving folds in the latest 200 of a history. */
export const FOLD_IN_HISTORY = 200;

export interface PanelItem {
  itemId: string;
  title: string | null;
  genres: string[];
  score: number;
  reason: string;
  /** From popularity (a cold user, a top-up, a failure), not from the model. */
  fromFallback: boolean;
}

export interface ServableVersion {
  name: string;
  version: string;
  stage: ModelStage;
  /** The version `/recommend` serves outside experiments and rollouts. */
  serving: boolean;
}

export interface VersionAnswer extends ServableVersion {
  modelVersion: string;
  fallback: boolean;
  fallbackReason: string | null;
  items: PanelItem[];
}

export interface HistoryEntry {
  itemId: string;
  title: string | null;
  genres: string[];
}

/** What the panel's procedures use; `createRecommendationsPanel` builds it over a serving runtime. */
export interface RecommendationsPanel {
  versions(): Promise<(ServableVersion & { ref: ModelRef })[]>;
  searchUsers(prefix: string, limit: number): Promise<string[]>;
  searchItems(query: string, limit: number): { itemId: string; title: string; genres: string[] }[];
  /** The latest `limit` distinct items, newest first, and how many the user has in all. */
  history(userId: string, limit: number): { total: number; items: HistoryEntry[] };
  recommend(userId: string, k: number): Promise<VersionAnswer[]>;
  similar(
    itemId: string,
    k: number,
    version?: { name: string; version: string },
  ): Promise<VersionAnswer>;
  foldIn(
    itemIds: readonly string[],
    k: number,
    version?: { name: string; version: string },
  ): Promise<VersionAnswer>;
}

export interface RecommendationsPanelDeps {
  runtime: Pick<ServingRuntime, "catalog" | "history" | "popularity" | "pool">;
  versions: Pick<ModelVersionStore, "list">;
  /** The api's cache: the stream worker's recent lists (and shared history) are read from it. */
  cache: RecommendationServiceDeps["cache"];
  /** Never written to: the panel's answers are not traffic, so their exposures are dropped. */
  bus: EventQueueOptions["bus"];
  topics: TopicNames;
  /** As the runtime's `sharedState` (default there: on with Redis). */
  sharedHistory: boolean;
}

/**
 * The recommendations panel over the api's serving runtime: one recommender pinned to each
 * servable version, sharing the runtime's models, history, catalog and popularity (so an answer is
 * what `/recommend` gives when that version serves), with metrics of its own and no exposure
 * events (dashboard views must not count as impressions in experiments and monitoring).
 */
export function createRecommendationsPanel(deps: RecommendationsPanelDeps): RecommendationsPanel {
  const { runtime } = deps;
  const metrics = new ServingMetrics();
  const batcher = new InferenceBatcher({ windowMs: 0, maxBatch: 1 }, metrics);
  // telemetryShare 0: every exposure is dropped before it is queued, so the bus is never used.
  const events = new EventQueue({ bus: deps.bus, metrics, capacity: 1, telemetryShare: 0 });
  const pinned = new Map<string, RecommendationService>();

  const recommenderFor = (ref: ModelRef): RecommendationService => {
    const key = `${modelKey(ref)}\n${ref.artifactPath}`;
    let service = pinned.get(key);
    if (!service) {
      if (pinned.size >= 4 * MAX_VERSIONS) pinned.clear(); // versions come and go: stay bounded
      service = new RecommendationService({
        pool: runtime.pool,
        batcher,
        resolver: new FixedModelResolver({ ref }),
        popularity: () => runtime.popularity(),
        history: runtime.history,
        catalog: () => runtime.catalog(),
        cache: deps.cache,
        metrics,
        events,
        topics: deps.topics,
        sharedHistory: deps.sharedHistory ? { ttlMs: DEFAULT_SHARED_HISTORY_TTL_MS } : false,
        foldInHistory: FOLD_IN_HISTORY,
      });
      pinned.set(key, service);
    }
    return service;
  };

  const describe = (itemId: string) => {
    const item = runtime.catalog().get(itemId);
    return { title: item?.title ?? null, genres: item?.genres ?? [] };
  };

  const toItems = (
    items: readonly { itemId: string; score: number; reason: string }[],
    fallback: boolean,
  ): PanelItem[] =>
    items.map((item) => ({
      itemId: item.itemId,
      ...describe(item.itemId),
      score: item.score,
      reason: item.reason,
      fromFallback: fallback || item.reason === "popular",
    }));

  const versions = async () => {
    const rows = (await deps.versions.list()).filter((row) => SERVABLE_STAGES.includes(row.stage));
    // list() is newest first: keep that order after the serving version.
    rows.sort((a, b) => Number(b.serving) - Number(a.serving));
    return rows.slice(0, MAX_VERSIONS).map((row) => ({
      name: row.name,
      version: row.version,
      stage: row.stage,
      serving: row.serving,
      ref: { name: row.name, version: row.version, artifactPath: row.artifactPath },
    }));
  };

  const pick = async (wanted?: { name: string; version: string }) => {
    const all = await versions();
    const found = wanted
      ? all.find((v) => v.name === wanted.name && v.version === wanted.version)
      : (all.find((v) => v.serving) ?? all[0]);
    return found ?? null;
  };

  const noVersion = (wanted?: { name: string; version: string }): Error =>
    wanted
      ? new NotFound("servable model version", `${wanted.name}@${wanted.version}`)
      : new Unavailable("no servable model version (none is stable, canary or candidate)");

  return {
    versions,

    async searchUsers(prefix, limit) {
      // The users the serving version was trained on (one model: searching loads no other), plus
      // one the history knows exactly (feedback since the last training).
      const found = new Set<string>();
      if (runtime.history.count(prefix) > 0) found.add(prefix);
      const serving = await pick();
      const loaded = serving && (await runtime.pool.get(serving.ref).catch(() => null));
      if (loaded) {
        const matches = loaded.model.userIds.filter((id) => id.startsWith(prefix));
        matches.sort((a, b) => a.length - b.length || a.localeCompare(b));
        for (const id of matches.slice(0, limit)) found.add(id);
      }
      return [...found].slice(0, limit);
    },

    searchItems(query, limit) {
      const needle = query.toLocaleLowerCase();
      const catalog = runtime.catalog();
      const hits: { itemId: string; title: string; genres: string[]; at: number }[] = [];
      for (const itemId of catalog.ids()) {
        const item = catalog.get(itemId);
        if (!item || item.deletedAt) continue;
        const at = item.title.toLocaleLowerCase().indexOf(needle);
        if (at >= 0 || itemId === query)
          hits.push({ itemId, title: item.title, genres: item.genres, at: at < 0 ? 0 : at });
      }
      // Titles that start with the query first, then by title.
      hits.sort((a, b) => a.at - b.at || a.title.localeCompare(b.title));
      return hits.slice(0, limit).map(({ itemId, title, genres }) => ({ itemId, title, genres }));
    },

    history(userId, limit) {
      const items = runtime.history.items(userId);
      const latest = items.slice(-limit).reverse();
      return {
        total: runtime.history.count(userId),
        items: latest.map((itemId) => ({ itemId, ...describe(itemId) })),
      };
    },

    async recommend(userId, k) {
      const all = await versions();
      return Promise.all(
        all.map(async ({ ref, ...version }) => {
          const answer = JSON.parse(
            await recommenderFor(ref).recommendJson({ userId, k, exclude: [], context: {} }),
          ) as {
            items: { itemId: string; score: number; reason: string }[];
            modelVersion: string;
            fallback: boolean;
            fallbackReason?: string;
          };
          return {
            ...version,
            modelVersion: answer.modelVersion,
            fallback: answer.fallback,
            fallbackReason: answer.fallbackReason ?? null,
            items: toItems(answer.items, answer.fallback),
          };
        }),
      );
    },

    async similar(itemId, k, wanted) {
      const found = await pick(wanted);
      if (!found) throw noVersion(wanted);
      const { ref, ...version } = found;
      const answer = await recommenderFor(ref).similar(itemId, k);
      return {
        ...version,
        modelVersion: answer.modelVersion,
        fallback: answer.fallback,
        fallbackReason: null,
        items: toItems(answer.items, answer.fallback),
      };
    },

    async foldIn(itemIds, k, wanted) {
      const found = await pick(wanted);
      if (!found) throw noVersion(wanted);
      const { ref, ...version } = found;
      const catalog = runtime.catalog();
      const picked = new Set(itemIds);
      const now = Date.now();
      const admits = (id: string) => !picked.has(id) && catalog.recommendable(id, now);
      const items: PanelItem[] = [];
      let fallbackReason: string | null = null;
      if (itemIds.length > 0) {
        try {
          const loaded = await runtime.pool.get(ref);
          const historyIndices = itemIds
            .slice(-FOLD_IN_HISTORY)
            .map((id) => loaded.itemIndex.get(id))
            .filter((index): index is number => index !== undefined);
          if (historyIndices.length === 0) fallbackReason = "empty_result";
          else {
            // As serving's fold-in: the picks are the history, and are never answered back.
            const ranked = await batcher.score(
              loaded,
              { historyIndices, exclude: historyIndices },
              Math.min(loaded.model.nItems, k + 64),
            );
            ranked.itemIndices.forEach((index, i) => {
              const itemId = loaded.model.itemIds[index];
              if (itemId === undefined || items.length >= k || !admits(itemId)) return;
              items.push({
                itemId,
                ...describe(itemId),
                score: ranked.scores[i]!,
                reason: "similar_to_recent",
                fromFallback: false,
              });
            });
          }
        } catch (error) {
          fallbackReason =
            (error as { reason?: unknown }).reason === undefined
              ? "inference_error"
              : String((error as { reason?: unknown }).reason);
        }
      }
      // No picks yet (a cold user) or a short answer: popularity, as serving does.
      const answered = new Set(items.map((item) => item.itemId));
      const popular = runtime
        .popularity()
        .top(k - items.length, { has: (id) => answered.has(id) || !admits(id) });
      items.push(
        ...popular.map((item) => ({
          itemId: item.itemId,
          ...describe(item.itemId),
          score: item.count,
          reason: "popular",
          fromFallback: true,
        })),
      );
      return {
        ...version,
        modelVersion: modelKey(ref),
        fallback: fallbackReason !== null,
        fallbackReason,
        items,
      };
    },
  };
}
