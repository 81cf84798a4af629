import { BadInput } from "@reco/contracts";
import type { FactorParams } from "../../params.ts";
import { accumulateGram, choleskySolve, symmetrize } from "./solver.ts";

const gramCache = new WeakMap<Float32Array, Float64Array>();

function itemGram(params: FactorParams): Float64Array {
  let gram = gramCache.get(params.itemFactors);
  if (!gram) {
    gram = new Float64Array(params.factors * params.factors);
    accumulateGram(params.itemFactors, params.factors, 0, params.nItems, gram);
    symmetrize(gram, params.factors);
    gramCache.set(params.itemFactors, gram);
  }
  return gram;
}

/**
 * Fold-in: the user vector a trained iALS model would give a user with these interactions,
 * solved exactly at request time (one k × k Cholesky; YᵀY is computed once per model).
 * `values` are raw interaction strengths (confidence 1 + alpha·value), 1 when omitted.
 * Unknown item indices (< 0 or ≥ nItems) are ignored.
 */
export function foldInUser(
  params: FactorParams,
  items: ArrayLike<number>,
  values?: ArrayLike<number>,
): Float32Array {
  const k = params.factors;
  const { itemFactors, alpha, regularization } = params;
  if (values && values.length !== items.length) {
    throw new BadInput(`fold-in: ${items.length} items but ${values.length} values`);
  }
  const system = itemGram(params).slice();
  const rhs = new Float64Array(k);
  for (let a = 0; a < k; a++) system[a * k + a]! += regularization;
  for (let n = 0; n < items.length; n++) {
    const item = items[n]!;
    if (!(item >= 0 && item < params.nItems)) continue;
    const value = values ? values[n]! : 1;
    if (!Number.isFinite(value)) throw new BadInput(`fold-in: value of item ${item} is ${value}`);
    const base = item * k;
    const extra = alpha * value;
    for (let a = 0; a < k; a++) {
      const ya = itemFactors[base + a]!;
      rhs[a]! += (1 + extra) * ya;
      for (let b = 0; b < k; b++) system[a * k + b]! += extra * ya * itemFactors[base + b]!;
    }
  }
  return Float32Array.from(choleskySolve(system, rhs, k));
}
