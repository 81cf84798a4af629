/**
 * Versions kept in object storage, served from a local cache: each version is fetched once into
 * `cacheDir` and verified (the manifest against the sha256 the version row pins, every file against
 * the manifest) before any session loads it. A refused version is not fetched again for
 * `retryAfterMs`, and the resolver keeps answering with the last version that was verified.
 */
import { isStoredVersion, fetchVersion } from "@reco/ml";
import type { ObjectStorage } from "@reco/storage";
import type { ModelLoader, ModelRef } from "./model-pool.ts";
import type { ModelResolution, ModelResolver } from "./resolver.ts";

export interface ArtifactCacheOptions {
  storage: ObjectStorage;
  /** local copies of fetched versions (<DATA_DIR>/model-cache in the api) */
  cacheDir: string;
  /** a version refused (checksum, missing object, storage down) is not fetched again for this long */
  retryAfterMs?: number;
}

export class ArtifactCache {
  private readonly fetched = new Map<string, ModelRef>();
  private readonly inflight = new Map<string, Promise<ModelRef>>();
  private readonly refused = new Map<string, { error: unknown; until: number }>();
  private readonly retryAfterMs: number;

  constructor(private readonly options: ArtifactCacheOptions) {
    this.retryAfterMs = options.retryAfterMs ?? 30_000;
  }

  /** The ref with `artifactPath` a verified local directory; a directory ref is returned as is. */
  async materialize(ref: ModelRef): Promise<ModelRef> {
    if (!isStoredVersion(ref.artifactPath)) return ref;
    const key = ref.artifactPath;
    const done = this.fetched.get(key);
    if (done) return done;
    const refusal = this.refused.get(key);
    if (refusal && Date.now() < refusal.until) throw refusal.error;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = fetchVersion(this.options.storage, ref.artifactPath, this.options.cacheDir)
        .then(
          (dir) => {
            const local = { ...ref, artifactPath: dir };
            this.fetched.set(key, local);
            this.refused.delete(key);
            return local;
          },
          (error: unknown) => {
            this.refused.set(key, { error, until: Date.now() + this.retryAfterMs });
            throw error;
          },
        )
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** The verified local ref when this version was fetched already. */
  ready(ref: ModelRef): ModelRef | undefined {
    return this.fetched.get(ref.artifactPath);
  }

  /** A loader that fetches (once) before it loads: for refs that reach the pool unresolved. */
  loader(load: ModelLoader): ModelLoader {
    return async (ref) => load(await this.materialize(ref));
  }
}

export interface RefusedVersion {
  ref: ModelRef;
  error: unknown;
  /** what is served instead; null when no version was verified before */
  keptServing: ModelRef | null;
}

/**
 * Wraps the resolver chain: a version in object storage is served only once fetched and verified;
 * until then (or when it is refused) the last verified version of the same slot — stable, or an
 * experiment's or rollout's arm — keeps serving. `onRefused` is told once per refused fetch.
 */
export class VerifiedModelResolver implements ModelResolver {
  private readonly lastGood = new Map<string, ModelRef>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly inner: ModelResolver,
    private readonly cache: ArtifactCache,
    private readonly onRefused: (refusal: RefusedVersion) => void = () => {},
  ) {}

  async resolve(request: Parameters<ModelResolver["resolve"]>[0]): Promise<ModelResolution> {
    const resolution = await this.inner.resolve(request);
    const ref = resolution.ref;
    if (!ref || !isStoredVersion(ref.artifactPath)) return resolution;
    const slot = `${resolution.experimentKey ?? ""}\u0000${resolution.variant ?? ""}`;
    const ready = this.cache.ready(ref);
    if (ready) {
      this.lastGood.set(slot, ready);
      return { ...resolution, ref: ready };
    }
    const previous = this.lastGood.get(slot);
    const fetching = this.cache.materialize(ref).then(
      (local) => {
        this.lastGood.set(slot, local);
        this.reported.delete(ref.artifactPath);
        return local;
      },
      (error: unknown) => {
        if (!this.reported.has(ref.artifactPath)) {
          this.reported.add(ref.artifactPath);
          this.onRefused({ ref, error, keptServing: this.lastGood.get(slot) ?? null });
        }
        return undefined;
      },
    );
    // A version already served keeps serving while the new one downloads, and if it is refused.
    if (previous) return { ...resolution, ref: previous };
    const local = await fetching;
    // With nothing verified before, the pool's loader meets the same refusal and the answer
    // falls back with its reason (model_corrupt, model_missing).
    return local ? { ...resolution, ref: local } : resolution;
  }
}
