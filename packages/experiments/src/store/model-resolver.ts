import type { ExperimentAssigner, ServedAssignment, ServedModelRef } from "./assigner.ts";

/** Structurally @reco/serving's ModelResolution (this package does not depend on serving). */
export interface ExperimentResolution {
  ref: ServedModelRef | null;
  variant?: string;
  experimentKey?: string;
}

export interface ResolveRequest {
  userId: string;
  context: Record<string, unknown>;
}

/**
 * The recommend path's hook: a ModelResolver that serves the user's experiment variant and falls
 * back to `base` (the stable version) for users in no experiment. A "popularity" variant resolves
 * to no model, which the serving path answers with the popularity ranking.
 */
export class ExperimentModelResolver {
  constructor(
    private readonly assigner: Pick<ExperimentAssigner, "assign">,
    private readonly base: { resolve(request: ResolveRequest): Promise<ExperimentResolution> },
  ) {}

  async resolve(request: ResolveRequest): Promise<ExperimentResolution> {
    const assigned: ServedAssignment | null = this.assigner.assign(request.userId);
    if (!assigned) return this.base.resolve(request);
    const label = { variant: assigned.variant, experimentKey: assigned.experimentKey };
    const { modelVersion, strategy } = assigned.serves;
    if (modelVersion) return { ref: modelVersion, ...label };
    if (strategy === "popularity") return { ref: null, ...label };
    const base = await this.base.resolve(request);
    return { ref: base.ref, ...label };
  }
}
