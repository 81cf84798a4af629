import { BadInput } from "@reco/contracts";
import type { Interactions } from "../data/interactions.ts";
import { recommend, userHistory } from "../models/score.ts";
import type { ModelParams } from "../params.ts";
import { MetricAccumulator, type MetricsAtK } from "./metrics.ts";

export const DEFAULT_KS = [10, 20, 50] as const;

export interface Evaluation {
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
}

/**
 * Offline evaluation of one model: for every user with ≥ 1 test item, rank all items except the
 * user's train items and compare the top-K with the test items.
 */
export function evaluate(
  params: ModelParams,
  train: Interactions,
  test: Interactions,
  options: { ks?: readonly number[] } = {},
): Evaluation {
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
  let users = 0;
  const { indptr, indices } = test.userItems;
  for (let u = 0; u < test.nUsers; u++) {
    if (indptr[u + 1] === indptr[u]) continue;
    const history = userHistory(train, u);
    if (history.items.length === 0) {
      excluded.usersWithoutTrain++;
      continue;
    }
    for (const item of history.items) inTrain[item] = 1;
    let nRelevant = 0;
    for (let e = indptr[u]!; e < indptr[u + 1]!; e++) {
      const item = indices[e]!;
      if (inTrain[item]) excluded.testItemsAlreadyInTrain++;
      else {
        relevant[item] = 1;
        nRelevant++;
      }
    }
    if (nRelevant > 0) {
      users++;
      const ranked = recommend(params, { userIndex: u, history }, maxK).items;
      for (const accumulator of accumulators)
        accumulator.add(ranked, (item) => relevant[item] === 1, nRelevant);
    }
    for (let e = indptr[u]!; e < indptr[u + 1]!; e++) relevant[indices[e]!] = 0;
    for (const item of history.items) inTrain[item] = 0;
  }
  const metrics: Record<string, MetricsAtK> = {};
  accumulators.forEach((accumulator) => (metrics[String(accumulator.k)] = accumulator.result()));
  return { users, ks, metrics, excluded };
}
