import { BadInput } from "@reco/contracts";
import type { Interactions } from "../data/interactions.ts";
import type { FactorParams, ItemItemParams, ModelParams, PopularityParams } from "../params.ts";
import { foldInUser } from "./ials/fold-in.ts";
import { type Ranked, topK } from "./top-k.ts";

/** A user's items and confidences (1 when values are omitted). */
export interface UserHistory {
  items: Int32Array;
  values?: Float32Array;
}

/**
 * Who to score. Factor models use `userIndex` (a user seen in training) and otherwise fold in
 * `history`; item-item models score from `history`; popularity uses `context` (first key with
 * a table wins, else the global one).
 */
export interface UserQuery {
  userIndex?: number;
  history?: UserHistory;
  context?: Record<string, string | undefined>;
}

/** The user's train row as a history (views into the CSR, no copy). */
export function userHistory(train: Interactions, userIndex: number): UserHistory {
  const { indptr, indices, values } = train.userItems;
  const start = indptr[userIndex]!;
  const end = indptr[userIndex + 1]!;
  return { items: indices.subarray(start, end), values: values.subarray(start, end) };
}

function scoreFactors(params: FactorParams, query: UserQuery): Float32Array {
  const { factors: k, nItems, itemFactors } = params;
  let vector: Float32Array;
  if (query.userIndex !== undefined && query.userIndex >= 0 && query.userIndex < params.nUsers) {
    vector = params.userFactors.subarray(query.userIndex * k, (query.userIndex + 1) * k);
  } else if (query.history) {
    vector = foldInUser(params, query.history.items, query.history.values);
  } else {
    throw new BadInput("factor model needs a known userIndex or a history to fold in");
  }
  const scores = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    let dot = 0;
    const base = i * k;
    for (let f = 0; f < k; f++) dot += vector[f]! * itemFactors[base + f]!;
    scores[i] = dot;
  }
  return scores;
}

function scoreItemItem(params: ItemItemParams, query: UserQuery): Float32Array {
  if (!query.history) throw new BadInput("item-item model needs the user's history");
  const { indptr, indices, weights } = params;
  const scores = new Float32Array(params.nItems);
  const { items, values } = query.history;
  for (let h = 0; h < items.length; h++) {
    const item = items[h]!;
    if (item < 0 || item >= params.nItems) continue;
    const weight = values ? values[h]! : 1;
    for (let n = indptr[item]!; n < indptr[item + 1]!; n++)
      scores[indices[n]!]! += weight * weights[n]!;
  }
  return scores;
}

/** Context table key: "device=mobile". */
export const contextKey = (name: string, value: string): string => `${name}=${value}`;

function scorePopularity(params: PopularityParams, query: UserQuery): Float32Array {
  for (const [name, value] of Object.entries(query.context ?? {})) {
    const table = value === undefined ? undefined : params.scores[contextKey(name, value)];
    if (table) return table.slice();
  }
  const global = params.scores[""];
  if (!global) throw new BadInput("popularity model has no global score table");
  return global.slice();
}

/** Reference scores of every item for one user (a fresh array the caller may modify). */
export function scoreUser(params: ModelParams, query: UserQuery): Float32Array {
  switch (params.kind) {
    case "factors":
      return scoreFactors(params, query);
    case "item-item":
      return scoreItemItem(params, query);
    case "popularity":
      return scorePopularity(params, query);
  }
}

/** Top-k items; the query's history and `exclude` (e.g. the train row) are never returned. */
export function recommend(
  params: ModelParams,
  query: UserQuery,
  k: number,
  exclude?: ArrayLike<number>,
): Ranked {
  const scores = scoreUser(params, query);
  if (query.history) for (const item of query.history.items) scores[item] = -Infinity;
  if (exclude) for (let n = 0; n < exclude.length; n++) scores[exclude[n]!] = -Infinity;
  return topK(scores, k);
}
