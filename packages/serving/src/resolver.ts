import { AppError, type RequestContext } from "@reco/contracts";
import type { ModelVersionStore } from "@reco/db";
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

/**
 * Serves the newest `stable` version, as the model-version store answers it. The lookup is cached
 * for `refreshMs`; past that, a request is answered from the last known version at once while one
 * lookup runs in the background (stale-while-revalidate): a hung or failing database never holds
 * a request, and a stage change is seen within `refreshMs` plus one lookup. Only the very first
 * resolution waits for the database.
 */
export class StableModelResolver implements ModelResolver {
  private cached: { at: number; ref: ModelRef | null } | undefined;
  private inflight: Promise<ModelRef | null> | undefined;

  constructor(
    private readonly versions: Pick<ModelVersionStore, "servingVersion">,
    private readonly refreshMs = 5_000,
  ) {}

  async resolve(): Promise<ModelResolution> {
    const cached = this.cached;
    if (cached && Date.now() - cached.at < this.refreshMs) return { ref: cached.ref };
    this.inflight ??= this.lookup().finally(() => (this.inflight = undefined));
    if (cached) {
      this.inflight.catch(() => undefined); // the next expiry tries again
      return { ref: cached.ref };
    }
    return { ref: await this.inflight };
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
