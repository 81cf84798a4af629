import { BadInput } from "@reco/contracts";
import type { Interactions } from "../data/interactions.ts";
import { type UserQuery, recommend, userHistory } from "../models/score.ts";
import { topK } from "../models/top-k.ts";
import { type UserUserModel, scoreUserUser } from "../models/user-knn.ts";
import type { ModelParams } from "../params.ts";
import { MetricAccumulator, type MetricsAtK } from "./metrics.ts";

export const DEFAULT_KS = [10, 20, 50] as const;

/**
 * How test items that never occur in train are treated. `field` (default, as RecBole, Elliot and
 * Dacrema et al. 2019): they stay in the denominator of recall, NDCG, MAP and recall_capped as
 * misses, and a user is averaged when they have ≥ 1 test item. `drop-unrankable`: they are left
 * out, and a user is averaged only with ≥ 1 test item that occurs in train.
 */
export type EvaluationProtocol = "field" | "drop-unrankable";
export const EVALUATION_PROTOCOLS: readonly EvaluationProtocol[] = ["field", "drop-unrankable"];

/** One line naming the protocol, for printed output, metadata and model cards. */
export function describeProtocol(protocol: EvaluationProtocol): string {
  return protocol === "field"
    ? "field protocol: test items never seen in train count as misses"
    : "drop-unrankable protocol: test items never seen in train are left out (not comparable with published tables)";
}

export interface Evaluation {
  protocol: EvaluationProtocol;
  /** users with at least one scorable test item: the denominator of every average */
  users: number;
  ks: number[];
  /** metrics by K ("10", "20", …) */
  metrics: Record<string, MetricsAtK>;
  /** what could not be evaluated, counted rather than fatal */
  excluded: {
    /** test users with no train interactions (nothing to personalise from) */
    usersWithoutTrain: number;
    /** test items already in the user's train set (never recommended back, so unhittable) */
    testItemsAlreadyInTrain: number;
  };
  /**
   * test items of evaluated-or-droppable users that never occur in train (no train interaction,
   * or outside the train id space): misses under `field`, left out under `drop-unrankable`
   */
  unrankableTestItems: number;
}

/** What can be evaluated: an exchange shape, or a model that is evaluated only (user-knn). */
export type EvaluableModel = ModelParams | UserUserModel;

function rank(
  model: EvaluableModel,
  query: UserQuery & { history: { items: Int32Array } },
  k: number,
) {
  if (model.kind !== "user-user") return recommend(model, query, k).items;
  const scores = scoreUserUser(model, query);
  for (const item of query.history.items) scores[item] = -Infinity;
  return topK(scores, k).items;
}

export interface EvaluateOptions {
  ks?: readonly number[];
  /** default `field` */
  protocol?: EvaluationProtocol;
  /**
   * per train user index, distinct test positives whose item is outside the train id space (an
   * explicit test file's unseen items, see `alignToIds`); they are unrankable like items with no
   * train interaction
   */
  unseenTestItems?: ArrayLike<number>;
}

/**
 * Offline evaluation of one model: for every user with ≥ 1 test item, rank all items except the
 * user's train items and compare the top-K with the test items (see `EvaluationProtocol` for the
 * test items that never occur in train).
 */
export function evaluate(
  params: EvaluableModel,
  train: Interactions,
  test: Interactions,
  options: EvaluateOptions = {},
): Evaluation {
  const protocol = options.protocol ?? "field";
  if (!EVALUATION_PROTOCOLS.includes(protocol)) {
    throw new BadInput(
      `protocol must be one of ${EVALUATION_PROTOCOLS.join(", ")}, got ${JSON.stringify(protocol)}`,
    );
  }
  const unseen = options.unseenTestItems;
  if (unseen && unseen.length !== train.nUsers) {
    throw new BadInput(
      `unseenTestItems must hold one count per train user (${train.nUsers}), got ${unseen.length}`,
    );
  }
  if (test.ids !== train.ids && (test.nUsers !== train.nUsers || test.nItems !== train.nItems)) {
    throw new BadInput("test interactions must use the train set's id maps (see alignToIds)");
  }
  const ks = [...(options.ks ?? DEFAULT_KS)].sort((a, b) => a - b);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new BadInput(`cut-offs must be positive integers, got ${JSON.stringify(options.ks)}`);
  }
  const maxK = ks[ks.length - 1]!;
  const accumulators = ks.map((k) => new MetricAccumulator(k, train.nItems));
  const relevant = new Uint8Array(train.nItems);
  const inTrain = new Uint8Array(train.nItems);
  const excluded = { usersWithoutTrain: 0, testItemsAlreadyInTrain: 0 };
  let unrankableTestItems = 0;
  let users = 0;
  const { indptr, indices } = test.userItems;
  const itemStart = train.itemUsers.indptr;
  const drop = protocol === "drop-unrankable";
  for (let u = 0; u < test.nUsers; u++) {
    const nUnseen = unseen && u < unseen.length ? unseen[u]! : 0;
    if (indptr[u + 1] === indptr[u] && nUnseen === 0) continue;
    const history = userHistory(train, u);
    if (history.items.length === 0) {
      excluded.usersWithoutTrain++;
      continue;
    }
    for (const item of history.items) inTrain[item] = 1;
    let nRelevant = 0;
    let nUnrankable = nUnseen;
    for (let e = indptr[u]!; e < indptr[u + 1]!; e++) {
      const item = indices[e]!;
      if (inTrain[item]) excluded.testItemsAlreadyInTrain++;
      else if (itemStart[item + 1] === itemStart[item]) {
        // never in train: part of the item space (it may still be ranked, by ties), not droppable
        nUnrankable++;
        if (!drop) relevant[item] = 1;
      } else {
        relevant[item] = 1;
        nRelevant++;
      }
    }
    unrankableTestItems += nUnrankable;
    const denominator = drop ? nRelevant : nRelevant + nUnrankable;
    if (denominator > 0) {
      users++;
      const ranked = rank(params, { userIndex: u, history }, maxK);
      for (const accumulator of accumulators)
        accumulator.add(ranked, (item) => relevant[item] === 1, denominator);
    }
    for (let e = indptr[u]!; e < indptr[u + 1]!; e++) relevant[indices[e]!] = 0;
    for (const item of history.items) inTrain[item] = 0;
  }
  const metrics: Record<string, MetricsAtK> = {};
  accumulators.forEach((accumulator) => (metrics[String(accumulator.k)] = accumulator.result()));
  return { protocol, users, ks, metrics, excluded, unrankableTestItems };
}
