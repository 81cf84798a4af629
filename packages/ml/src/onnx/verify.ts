/**
 * Checks an exported graph against the TypeScript reference on sample requests: every score within
 * a tolerance (absolute up to |score| 1, relative beyond: float32 carries ~7 significant digits, so
 * a count of 3000 cannot be held to 1e-5 absolute) and the same top-k, where a differing position is accepted only when the two items'
 * reference scores tie within the tolerance (float32 vs float64 sums may order exact ties either way).
 */
import type { ModelParams } from "../params.ts";
import { type ScoringInput, referenceScores, topK } from "./reference.ts";
import {
  type RecommendRequest,
  type Scorer,
  type ScorerSource,
  resolveRequest,
} from "./session.ts";

export interface ExportCheck {
  requests: number;
  maxAbsDiff: number;
  /** human-readable disagreements; empty when the export matches */
  mismatches: string[];
}

export function referenceInput(
  params: ModelParams,
  input: ReturnType<typeof resolveRequest>["input"],
): ScoringInput {
  if ("userIndex" in input && params.kind === "factors") {
    const f = params.factors;
    return {
      kind: "factors",
      vector: params.userFactors.subarray(input.userIndex * f, (input.userIndex + 1) * f),
    };
  }
  return input as ScoringInput;
}

export async function verifyExport(
  params: ModelParams,
  source: ScorerSource,
  scorer: Scorer,
  requests: RecommendRequest[],
  k: number,
  tolerance = 1e-5,
): Promise<ExportCheck> {
  const got = await scorer.recommend(requests, k);
  const mismatches: string[] = [];
  let maxAbsDiff = 0;
  let worst = 0; // largest diff / allowed
  const allowed = (ref: number) => tolerance * Math.max(1, Math.abs(ref));
  requests.forEach((req, r) => {
    const resolved = resolveRequest(source, req, r);
    const ref = referenceScores(params, referenceInput(params, resolved.input));
    const want = topK(ref, Math.min(k, params.nItems), resolved.exclude);
    const have = got[r]!;
    if (have.itemIndices.length !== want.itemIndices.length) {
      mismatches.push(
        `request ${r}: ${have.itemIndices.length} items, reference ${want.itemIndices.length}`,
      );
      return;
    }
    have.itemIndices.forEach((item, c) => {
      const diff = Math.max(
        Math.abs(have.scores[c]! - ref[item]!),
        Math.abs(have.scores[c]! - want.scores[c]!),
      );
      maxAbsDiff = Math.max(maxAbsDiff, diff);
      worst = Math.max(worst, diff / allowed(ref[item]!));
      const wantItem = want.itemIndices[c]!;
      if (item !== wantItem && Math.abs(ref[item]! - ref[wantItem]!) > allowed(ref[item]!)) {
        mismatches.push(
          `request ${r} rank ${c}: item ${item} (ref ${ref[item]}), reference item ${wantItem} (${ref[wantItem]})`,
        );
      }
    });
  });
  if (worst > 1) {
    mismatches.push(
      `max |onnx − reference| = ${maxAbsDiff} exceeds ${tolerance} × max(1, |score|)`,
    );
  }
  return { requests: requests.length, maxAbsDiff, mismatches };
}
