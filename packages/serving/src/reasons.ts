/**
 * The fallback reasons: why an answer was not (only) the model's, as the answer's `fallbackReason`
 * and the `reco_fallbacks_total{reason}` label. Like Fastify's `FST_ERR_*` codes they are stable
 * (dashboards and alerts key on them): add one here and to the README's table (reasons.test.ts
 * checks both ways), never rename one. Errors name theirs in `reason` (`AppError`'s), and
 * `fallbackReason(error)` reads it; a custom strategy's `StrategyError` may name its own.
 */
export const FALLBACK_REASONS = {
  no_model: "no version to serve: none is stable yet, or the resolver chose none",
  resolver_error:
    "the model resolver threw (ModelResolutionFailed), e.g. the database is down and no earlier answer is kept",
  model_corrupt: "the version's artifact failed its checksum or structure check (ArtifactCorrupt)",
  model_missing:
    "the version is not in the registry (ModelVersionMissing), or its loader found no file (ENOENT)",
  empty_result:
    "the model had nothing to give: no item left after exclusions, or no history item it knows",
  inference_error:
    "any other failure: the scorer or the inference thread failed, or an error names no reason",
} as const satisfies Record<string, string>;

export type FallbackReason = keyof typeof FALLBACK_REASONS;

/** Whether FALLBACK_REASONS lists `reason` (own keys only: `toString` is not a reason). */
export function isFallbackReason(reason: string): reason is FallbackReason {
  return Object.hasOwn(FALLBACK_REASONS, reason);
}
