import { BadInput } from "@reco/contracts";
import type { Csr } from "../data/csr.ts";
import { type Interactions, interactionsFromCsr } from "../data/interactions.ts";
import type { HyperParameters, Recommender } from "./recommender.ts";
import type { UserQuery } from "./score.ts";
import { topKItemItem } from "./similarity.ts";

/**
 * User-user collaborative filtering: score(u, i) = Σ_v S[u, v] · r(v, i) over u's top-k
 * neighbours v. Scoring needs every training user's history, so it is not one of the exchange
 * shapes of params.ts: the kind is evaluated offline and cannot be exported or served.
 */
export interface UserUserModel {
  kind: "user-user";
  nUsers: number;
  nItems: number;
  /** user → neighbour users, weights S[u, v] */
  neighbours: Csr;
  /** user → items, the train confidences */
  histories: Csr;
}

export function fitUserUser(train: Interactions, params: HyperParameters): UserUserModel {
  const { neighbours: k, shrink } = params as Record<string, number>;
  const norms = new Float64Array(train.nUsers);
  const { userItems } = train;
  for (let u = 0; u < train.nUsers; u++) {
    let sum = 0;
    for (let e = userItems.indptr[u]!; e < userItems.indptr[u + 1]!; e++)
      sum += userItems.values[e]! ** 2;
    norms[u] = Math.sqrt(sum);
  }
  // Users play the items' part in the same walk: user → item → user, cosine with shrinkage,
  // each user keeping its k most similar users (rows).
  const byUser = interactionsFromCsr(train.itemUsers);
  const similarity = topKItemItem(
    byUser,
    {
      historyToUser: (_user, _item, value) => value,
      userToCandidate: (_item, _user, value) => value,
      finish: (u, v, raw) => raw / (norms[u]! * norms[v]! + shrink! + 1e-12),
    },
    { k: k!, by: "row", normalizeRows: false },
  );
  return {
    kind: "user-user",
    nUsers: train.nUsers,
    nItems: train.nItems,
    neighbours: {
      nRows: train.nUsers,
      nCols: train.nUsers,
      indptr: similarity.indptr,
      indices: similarity.indices,
      values: similarity.weights,
    },
    histories: userItems,
  };
}

/** Scores of every item for a user seen in training (a fresh array). */
export function scoreUserUser(model: UserUserModel, query: UserQuery): Float32Array {
  const u = query.userIndex;
  if (u === undefined || u < 0 || u >= model.nUsers) {
    throw new BadInput("user-knn scores only users seen in training (give their userIndex)");
  }
  const scores = new Float32Array(model.nItems);
  const { neighbours, histories } = model;
  for (let n = neighbours.indptr[u]!; n < neighbours.indptr[u + 1]!; n++) {
    const v = neighbours.indices[n]!;
    const weight = neighbours.values[n]!;
    for (let e = histories.indptr[v]!; e < histories.indptr[v + 1]!; e++)
      scores[histories.indices[e]!]! += weight * histories.values[e]!;
  }
  return scores;
}

export const userKnn: Recommender = {
  kind: "user-knn",
  summary:
    "user-user cosine similarity with shrinkage, top-k neighbour users; evaluation only (scoring needs every training user's history, so it is not exported or served)",
  parameters: {
    neighbours: {
      default: 50,
      min: 1,
      max: 2000,
      search: [5, 500],
      integer: true,
      logScale: true,
      help: "neighbour users kept per user",
    },
    shrink: {
      default: 10,
      min: 0,
      max: 1000,
      search: [0, 200],
      help: "shrinkage added to the cosine denominator",
    },
  },
  async fit() {
    throw new BadInput(
      "user-knn cannot be exported or served: its scores need every training user's history; use it with `evaluate` (or pick an item-item or factor kind to train)",
    );
  },
};
