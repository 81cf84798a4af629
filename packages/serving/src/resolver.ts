import { AppError, type RequestContext } from "@reco/contracts";
import type { ModelVersionStore } from "@reco/db";
import { withDatabaseTimeout } from "./database-wait.ts";
import type { ModelRef } from "./model-pool.ts";

export interface ModelResolution {
  /** null when no version can be served (none trained or promoted yet). */
  ref: ModelRef | null;
  /** Experiment or rollout arm, when one decided the version. */
  variant?: string;
  /** The experiment the variant belongs to; logged with every exposure on reco.responses. */
  experimentKey?: string;
}

/** The one place that decides which version serves a request; experiments and rollouts plug in here. */
export interface ModelResolver {
  resolve(request: { userId: string; context: RequestContext }): Promise<ModelResolution>;
}

/**
 * The resolver threw: the answer falls back to the next strategies with reason `resolver_error`;
 * the resolver's own error is the `cause` (it is wrapped, never renamed).
 */
export class ModelResolutionFailed extends AppError {
  declare readonly reason: "resolver_error";
  constructor(cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super("UNAVAILABLE", `model resolver failed: ${message}`, undefined, {
      reason: "resolver_error",
      cause,
    });
  }
}

/** How long a request waits for a first lookup when no version is known yet (default 3 s). */
export const DEFAULT_FIRST_LOOKUP_WAIT_MS = 3_000;

/**
 * Serves the newest `stable` version, as the model-version store answers it. The lookup is cached
 * for `refreshMs`; past that, a request is answered from the last known version at once while one
 * lookup runs in the background (stale-while-revalidate): a hung or failing database never holds
 * a request, and a stage change is seen within `refreshMs` plus one lookup. `start()` makes the
 * first lookup before any request (the api awaits it at start-up); without it, the first requests
 * wait for that lookup, at most `firstLookupWaitMs`, then fail (the serving path falls back).
 */
export class StableModelResolver implements ModelResolver {
  private cached: { at: number; ref: ModelRef | null } | undefined;
  private inflight: Promise<ModelRef | null> | undefined;

  constructor(
    private readonly versions: Pick<ModelVersionStore, "servingVersion">,
    private readonly refreshMs = 5_000,
    private readonly firstLookupWaitMs = DEFAULT_FIRST_LOOKUP_WAIT_MS,
  ) {}

  /**
   * Looks the serving version up once, so that no request waits for the database for it: an api
   * whose first request comes while the database hangs still answers with the version it knew.
   */
  async start(): Promise<void> {
    await this.lookupOnce();
  }

  async resolve(): Promise<ModelResolution> {
    const cached = this.cached;
    if (cached && Date.now() - cached.at < this.refreshMs) return { ref: cached.ref };
    const inflight = this.lookupOnce();
    if (cached) {
      inflight.catch(() => undefined); // the next expiry tries again
      return { ref: cached.ref };
    }
    return { ref: await withDatabaseTimeout(inflight, this.firstLookupWaitMs, "serving version") };
  }

  private lookupOnce(): Promise<ModelRef | null> {
    this.inflight ??= this.lookup().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async lookup(): Promise<ModelRef | null> {
    const row = await this.versions.servingVersion();
    const ref = row && { name: row.name, version: row.version, artifactPath: row.artifactPath };
    this.cached = { at: Date.now(), ref };
    return ref;
  }
}

/** A fixed answer: tests, benchmarks, and pinning a version by configuration. */
export class FixedModelResolver implements ModelResolver {
  constructor(private readonly resolution: ModelResolution) {}
  async resolve(): Promise<ModelResolution> {
    return this.resolution;
  }
}
