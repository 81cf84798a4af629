/** Fit and evaluate steps shared by the train, evaluate and tune commands. */
import { BadInput } from "@reco/contracts";
import { type InteractionLog, type Interactions, buildInteractions } from "../data/index.ts";
import {
  type EvaluableModel,
  type Evaluation,
  type EvaluationProtocol,
  evaluate,
} from "../eval/evaluate.ts";
import { METRIC_NAMES } from "../eval/metrics.ts";
import {
  fitModel,
  fitUserUser,
  moreRecommenders,
  recommenderFor,
  recommenders,
  resolveParameters,
} from "../models/index.ts";
import type { ModelParams } from "../params.ts";
import type { DatasetOptions } from "./dataset.ts";
import { type Console, epochProgress } from "./output.ts";

export function parseKs(text: string | undefined): number[] {
  if (text === undefined) return [10, 20, 50];
  const ks = text.split(",").map((k) => Number(k.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new BadInput(
      `--k must be a comma-separated list of positive integers, got ${JSON.stringify(text)}`,
    );
  }
  return ks;
}

/**
 * "all" or a comma list, each a known kind (UnknownModelKind lists the valid ones). With
 * `evaluation`, "all" adds the kinds that are evaluated only (user-knn) and, when item metadata is
 * given, the content kinds.
 */
export function parseModelKinds(
  text: string,
  options: { evaluation?: boolean; itemContent?: boolean } = {},
): string[] {
  const extra = Object.keys(moreRecommenders).filter((kind) =>
    kind === "user-knn" ? options.evaluation : options.itemContent,
  );
  const kinds =
    text === "all"
      ? [...Object.keys(recommenders), ...extra]
      : text.split(",").map((k) => k.trim());
  for (const kind of kinds) recommenderFor(kind);
  return kinds;
}

/**
 * With several models, each takes the hyper-parameters it knows; a parameter no model knows is an
 * error naming every model's valid parameters.
 */
export function hyperParametersFor(
  kinds: string[],
  given: Record<string, string>,
): Record<string, Record<string, string>> {
  const byKind: Record<string, Record<string, string>> = Object.fromEntries(
    kinds.map((k) => [k, {}]),
  );
  for (const [name, value] of Object.entries(given)) {
    const owners = kinds.filter((k) => name in recommenderFor(k).parameters);
    if (owners.length === 0 && kinds.length > 1) {
      const valid = kinds
        .map((k) => `${k}: ${Object.keys(recommenderFor(k).parameters).join(", ") || "none"}`)
        .join("; ");
      throw new BadInput(`unknown option or parameter --${name} (model parameters — ${valid})`);
    }
    for (const k of owners.length ? owners : kinds) byKind[k]![name] = value;
  }
  return byKind;
}

/** The command's --seed also seeds models that take one (iALS initial factors), unless given apart. */
export function withSeed(
  kind: string,
  hyper: Record<string, string>,
  seed: number,
): Record<string, string> {
  return "seed" in recommenderFor(kind).parameters && hyper.seed === undefined
    ? { ...hyper, seed: String(seed) }
    : hyper;
}

/** Validates names and ranges up front, so a typo fails before any data is read or run recorded. */
export function checkHyperParameters(kind: string, hyper: Record<string, string>): void {
  resolveParameters(recommenderFor(kind), hyper);
}

export interface FitResult {
  model: ModelParams;
  params: Record<string, number>;
  fitMs: number;
}

export async function fitWithProgress(
  kind: string,
  train: Interactions,
  hyper: Record<string, string>,
  console: Console,
): Promise<FitResult> {
  const progress = epochProgress(kind, console);
  const started = performance.now();
  try {
    const { model, params } = await fitModel(kind, train, hyper, progress);
    return { model, params, fitMs: performance.now() - started };
  } finally {
    progress.stop();
  }
}

/** As fitWithProgress, and user-knn (evaluated only) as its own model. */
export async function fitForEvaluation(
  kind: string,
  train: Interactions,
  hyper: Record<string, string>,
  console: Console,
): Promise<{ model: EvaluableModel; params: Record<string, number>; fitMs: number }> {
  if (kind !== "user-knn") return fitWithProgress(kind, train, hyper, console);
  const started = performance.now();
  const params = resolveParameters(recommenderFor(kind), hyper);
  return { model: fitUserUser(train, params), params, fitMs: performance.now() - started };
}

/** `field` unless --drop-unrankable-test-items. */
export function evaluationProtocolOf(
  o: Pick<DatasetOptions, "dropUnrankableTestItems">,
): EvaluationProtocol {
  return o.dropUnrankableTestItems ? "drop-unrankable" : "field";
}

/**
 * Evaluates on the held-out events; `unseenTestItems` (an explicit test file's events whose item
 * is absent from train) count as misses under the field protocol, distinct positives per user.
 */
export function evaluateOn(
  model: EvaluableModel,
  train: Interactions,
  test: InteractionLog,
  data: Pick<DatasetOptions, "threshold" | "confidence" | "dropUnrankableTestItems">,
  ks: number[],
  unseenTestItems?: InteractionLog,
): Evaluation {
  const options = { threshold: data.threshold, confidence: data.confidence };
  const testInteractions = buildInteractions(test, options);
  let unseen: Int32Array | undefined;
  if (unseenTestItems && unseenTestItems.length > 0) {
    const { indptr } = buildInteractions(unseenTestItems, options).userItems;
    unseen = new Int32Array(train.nUsers);
    for (let u = 0; u < unseen.length; u++) unseen[u] = indptr[u + 1]! - indptr[u]!;
  }
  return evaluate(model, train, testInteractions, {
    ks,
    protocol: evaluationProtocolOf(data),
    unseenTestItems: unseen,
  });
}

/** {"ndcg@10": …} for metadata.json, the DB row and the model card. */
export function flattenMetrics(e: Evaluation): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const k of e.ks)
    for (const name of METRIC_NAMES) flat[`${name}@${k}`] = e.metrics[String(k)]![name];
  return flat;
}

export function describeExclusions(e: Evaluation): string | undefined {
  const { usersWithoutTrain, testItemsAlreadyInTrain } = e.excluded;
  const parts: string[] = [];
  if (usersWithoutTrain + testItemsAlreadyInTrain > 0) {
    parts.push(
      `evaluation skipped ${usersWithoutTrain} test users without train interactions and ${testItemsAlreadyInTrain} test items already in the user's train set`,
    );
  }
  if (e.unrankableTestItems > 0) {
    parts.push(
      `${e.unrankableTestItems} test items never seen in train ${e.protocol === "field" ? "counted as misses" : "left out (--drop-unrankable-test-items)"}`,
    );
  }
  return parts.length ? parts.join("; ") : undefined;
}
