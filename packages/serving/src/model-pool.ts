import { reasonOf } from "@reco/contracts";
import { ModelVersionMissing } from "@reco/ml";
import { LRUCache } from "lru-cache";
import type { ServingMetrics } from "./metrics.ts";

/** Which immutable model version to serve; `artifactPath` is its registry directory. */
export interface ModelRef {
  name: string;
  version: string;
  artifactPath: string;
}

/** One scoring request, in the model's dense indices (the shape @reco/ml's scorer takes). */
export interface ScoreRequest {
  userIndex?: number;
  historyIndices?: number[];
  context?: Record<string, string | undefined>;
  /**
   * Item indices never to return. An Int32Array crosses to the inference thread as one copy of its
   * bytes; a number[] is serialised element by element (16 requests of ~165 indices per batch). An
   * Int32Array is ascending: rankedItems checks a model's answer against it by binary search.
   */
  exclude?: Int32Array | readonly number[];
}

export interface Ranked {
  itemIndices: number[];
  scores: number[];
}

/** A loaded model: @reco/ml's ArtifactScorer fits this shape. */
export interface ServableModel {
  readonly kind: "factors" | "item-item" | "popularity";
  readonly nItems: number;
  readonly itemIds: string[];
  readonly userIds: string[];
  /** ISO-8601 of when the version was trained: catalog items created later are new to it. */
  readonly createdAt?: string;
  recommend(batch: ScoreRequest[], k: number): Promise<Ranked[]>;
  release(): Promise<void>;
}

/** Loads and checksum-verifies a version (main.ts passes @reco/ml's createScorer). */
export type ModelLoader = (ref: ModelRef) => Promise<ServableModel>;

export const modelKey = (ref: Pick<ModelRef, "name" | "version">): string =>
  `${ref.name}@${ref.version}`;

/** A loaded model plus what serving derives once per load (id → index maps). */
export class LoadedModel {
  readonly key: string;
  readonly userIndex: Map<string, number>;
  readonly itemIndex: Map<string, number>;
  private active = 0;
  private evicted = false;
  private released: Promise<void> | undefined;

  constructor(
    readonly ref: ModelRef,
    readonly model: ServableModel,
  ) {
    this.key = modelKey(ref);
    this.userIndex = new Map(model.userIds.map((id, i) => [id, i]));
    this.itemIndex = new Map(model.itemIds.map((id, i) => [id, i]));
  }

  /** Runs `use` while keeping the session alive: an eviction releases it only once idle. */
  async with<T>(use: (model: ServableModel) => Promise<T>): Promise<T> {
    if (this.released) throw new Error(`model ${this.key} was released`);
    this.active += 1;
    try {
      return await use(this.model);
    } finally {
      this.active -= 1;
      if (this.evicted && this.active === 0) void this.release();
    }
  }

  evict(): void {
    this.evicted = true;
    if (this.active === 0) void this.release();
  }

  get isReleased(): boolean {
    return this.released !== undefined;
  }

  private release(): Promise<void> {
    this.released ??= this.model.release().catch(() => undefined);
    return this.released;
  }
}

export interface ModelPoolOptions {
  loader: ModelLoader;
  metrics: ServingMetrics;
  /** Sessions held at once (default 3); the least recently used is released first. */
  capacity?: number;
  /** A failed load is not retried for this long, so a corrupt file is not re-read on every request. */
  failureBackoffMs?: number;
}

/**
 * A loader's error, with a stable reason: a loader that found no file (ENOENT, with no reason of its
 * own) means the version is missing, so it is wrapped (as cause) in ModelVersionMissing.
 */
function loadFailure(ref: ModelRef, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (reasonOf(error) === undefined && code === "ENOENT")
    return new ModelVersionMissing(ref.name, ref.version, { cause: error });
  return error as Error;
}

/**
 * ONNX sessions in an LRU: loaded lazily on first use, concurrent loads of one version share one
 * promise, a load failure is remembered for a while, evicted sessions are released once idle.
 */
export class ModelPool {
  private readonly sessions: LRUCache<string, LoadedModel>;
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private readonly failures = new Map<string, { error: Error; until: number }>();
  private readonly loader: ModelLoader;
  private readonly metrics: ServingMetrics;
  private readonly failureBackoffMs: number;

  constructor(options: ModelPoolOptions) {
    this.loader = options.loader;
    this.metrics = options.metrics;
    this.failureBackoffMs = options.failureBackoffMs ?? 30_000;
    this.sessions = new LRUCache<string, LoadedModel>({
      max: options.capacity ?? 3,
      dispose: (loaded, _key, reason) => {
        if (reason === "evict" || reason === "delete") this.metrics.modelEvictions.inc();
        loaded.evict();
        this.metrics.modelsLoaded.set(this.sessions.size);
      },
    });
  }

  /** The loaded version, loading it if needed; throws the load error (e.g. ArtifactCorrupt). */
  async get(ref: ModelRef): Promise<LoadedModel> {
    const key = modelKey(ref);
    const held = this.sessions.get(key);
    if (held) return held;
    const failure = this.failures.get(key);
    if (failure && failure.until > Date.now()) throw failure.error;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(key, ref);
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Versions held now, most recently used first. */
  held(): string[] {
    return [...this.sessions.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.loading.values());
    this.sessions.clear();
  }

  private async load(key: string, ref: ModelRef): Promise<LoadedModel> {
    try {
      const loaded = new LoadedModel(ref, await this.loader(ref));
      this.failures.delete(key);
      this.sessions.set(key, loaded);
      this.metrics.modelLoads.inc({ result: "ok" });
      this.metrics.modelsLoaded.set(this.sessions.size);
      return loaded;
    } catch (error) {
      this.metrics.modelLoads.inc({ result: "error" });
      const failure = loadFailure(ref, error);
      this.failures.set(key, { error: failure, until: Date.now() + this.failureBackoffMs });
      throw failure;
    } finally {
      this.loading.delete(key);
    }
  }
}
