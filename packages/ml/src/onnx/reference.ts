/**
 * TypeScript reference scoring straight from ModelParams, in float64: the definition the ONNX graphs
 * must reproduce (to 1e-5, same top-k). Also the top-k rule both sides share: descending score, ties
 * broken by the lower item index (ONNX TopK's documented tie-break), excluded items never returned.
 */
import { topK as modelTopK } from "../models/top-k.ts";
import type { ModelParams } from "../params.ts";

/** What a model scores from, once a request has been resolved against the artifact. */
export type ScoringInput =
  | { kind: "factors"; vector: ArrayLike<number> }
  | { kind: "item-item"; history: ArrayLike<number>; weights: ArrayLike<number> }
  | { kind: "popularity"; context: string };

export function referenceScores(params: ModelParams, input: ScoringInput): Float64Array {
  const scores = new Float64Array(params.nItems);
  if (params.kind === "factors" && input.kind === "factors") {
    const f = params.factors;
    for (let j = 0; j < params.nItems; j++) {
      let s = 0;
      for (let d = 0; d < f; d++) s += input.vector[d]! * params.itemFactors[j * f + d]!;
      scores[j] = s;
    }
  } else if (params.kind === "item-item" && input.kind === "item-item") {
    for (let h = 0; h < input.history.length; h++) {
      const item = input.history[h]!;
      const w = input.weights[h]!;
      for (let n = params.indptr[item]!; n < params.indptr[item + 1]!; n++) {
        scores[params.indices[n]!]! += w * params.weights[n]!;
      }
    }
  } else if (params.kind === "popularity" && input.kind === "popularity") {
    const row = params.scores[input.context] ?? params.scores[""];
    if (!row) throw new Error('popularity params need a global "" context');
    scores.set(row);
  } else {
    throw new Error(`cannot score ${input.kind} input with ${params.kind} params`);
  }
  return scores;
}

export interface Ranked {
  itemIndices: number[];
  scores: number[];
}

/** Top-k by score (desc), lower index first on ties (models/top-k.ts), skipping excluded items. */
export function topK(scores: ArrayLike<number>, k: number, exclude: Iterable<number> = []): Ranked {
  const masked = Float64Array.from(scores);
  for (const j of exclude) masked[j] = -Infinity;
  const best = modelTopK(masked, k);
  return { itemIndices: Array.from(best.items), scores: Array.from(best.items, (j) => scores[j]!) };
}
