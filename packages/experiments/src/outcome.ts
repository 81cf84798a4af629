import type { ExperimentDefinition } from "./definition.ts";
import type { ExperimentOutcome, ExperimentResults, MetricResult } from "./results-types.ts";
import { formatPercent } from "./verdict.ts";

/**
 * The experiment-level call, in priority order: a broken split invalidates everything, then
 * missing data, then (fixed mode) an unfinished sample, then guardrails, then the primary metric.
 */
export function overallVerdict(input: {
  def: ExperimentDefinition;
  control: string;
  metrics: MetricResult[];
  srm: ExperimentResults["srm"];
  sampleSize: ExperimentResults["sampleSize"];
  mode: "sequential" | "fixed";
}): { outcome: ExperimentOutcome; verdict: string; winner: string | null } {
  const { metrics, srm, sampleSize, control } = input;
  const primary = metrics[0]!;
  const treatments = primary.variants.filter((v) => !v.isControl);
  if (srm.mismatch) return { outcome: "srm", verdict: srm.verdict, winner: null };
  if (treatments.some((t) => t.comparison === null)) {
    return {
      outcome: "insufficient_data",
      verdict: `Not enough data on ${primary.label} yet to compare every variant with ${control}.`,
      winner: null,
    };
  }
  if (input.mode === "fixed" && !sampleSize.reached) {
    return {
      outcome: "waiting_for_sample",
      verdict: `Keep running: the smallest variant has ${sampleSize.smallestVariant} of the ${sampleSize.minPerVariant} users planned; fixed-horizon results are not valid before that.`,
      winner: null,
    };
  }
  const violations = metrics
    .filter((m) => m.role === "guardrail")
    .flatMap((m) =>
      m.variants
        .filter((v) => v.comparison?.outcome === "worse")
        .map((v) => `${v.variant} on ${m.label} (${formatPercent(v.comparison!.uplift)})`),
    );
  if (violations.length > 0)
    return {
      outcome: "guardrail_violated",
      verdict: `Guardrail violated: ${violations.join(", ")}. Do not ship.`,
      winner: null,
    };
  const better = treatments
    .filter((t) => t.comparison!.outcome === "better")
    .sort((a, b) => Math.abs(b.comparison!.uplift) - Math.abs(a.comparison!.uplift));
  if (better.length > 0) {
    const best = better[0]!;
    return {
      outcome: "winner",
      verdict: `${best.verdict} Chance to beat ${control}: ${(best.comparison!.chanceToWin * 100).toFixed(1)} %.`,
      winner: best.variant,
    };
  }
  if (treatments.every((t) => t.comparison!.outcome === "worse")) {
    return {
      outcome: "loser",
      verdict: `Every variant does worse than ${control} on ${primary.label}; keep ${control}.`,
      winner: null,
    };
  }
  return {
    outcome: "inconclusive",
    verdict: `No variant differs detectably from ${control} on ${primary.label} yet. ${treatments.map((t) => t.verdict).join(" ")}`,
    winner: null,
  };
}
