import { BadInput } from "@reco/contracts";
import { type InteractionOptions, buildInteractions } from "../data/interactions.ts";
import type { InteractionLog } from "../data/log.ts";
import { seededRandom, type Random } from "../data/random.ts";
import { randomHoldout } from "../data/split.ts";
import { evaluate, type Evaluation, type EvaluationProtocol } from "../eval/evaluate.ts";
import { recommenderFor } from "../models/index.ts";
import {
  type HyperParameters,
  type ParameterSpec,
  resolveParameters,
} from "../models/recommender.ts";

export interface TuneOptions {
  kind: string;
  /** parameter sets tried; the first is the defaults (with `fixed` applied) */
  trials?: number;
  seed?: number;
  /** fraction of each user's train items held out for validation */
  validationFraction?: number;
  /** parameters kept at these values and not searched */
  fixed?: Record<string, number>;
  interactions?: InteractionOptions;
  /** how validation items never seen in the fit set count (default `field`: as misses) */
  protocol?: EvaluationProtocol;
  /** called after every trial (the CLI prints progress) */
  onTrial?: (trial: Trial, index: number, total: number) => void;
}

export interface Trial {
  params: HyperParameters;
  ndcg10: number;
  evaluation: Evaluation;
  seconds: number;
}

export interface TuneResult {
  kind: string;
  /** trials, best first */
  trials: Trial[];
  best: Trial;
  validation: {
    seed: number;
    fraction: number;
    trainEvents: number;
    validationEvents: number;
    protocol: EvaluationProtocol;
  };
}

function sample(spec: ParameterSpec, random: Random): number {
  const [low, high] = spec.search!;
  const value =
    spec.logScale && low > 0
      ? Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low)))
      : low + random.next() * (high - low);
  return spec.integer ? Math.round(value) : Number(value.toPrecision(3));
}

/**
 * Random search over each parameter's `search` range, scored by NDCG@10 on a validation split
 * carved from the train events (the test set is never looked at).
 */
export async function tune(train: InteractionLog, options: TuneOptions): Promise<TuneResult> {
  const recommender = recommenderFor(options.kind);
  const trials = options.trials ?? 20;
  if (!(Number.isInteger(trials) && trials >= 1))
    throw new BadInput(`trials must be a positive integer, got ${trials}`);
  const seed = options.seed ?? 42;
  const fraction = options.validationFraction ?? 0.2;
  const fixed = options.fixed ?? {};
  const protocol = options.protocol ?? "field";
  resolveParameters(recommender, fixed);
  const split = randomHoldout(train, { testFraction: fraction, seed: seed + 1 });
  const fitSet = buildInteractions(split.train, options.interactions);
  const validation = buildInteractions(split.test, options.interactions);
  const searched = Object.entries(recommender.parameters).filter(
    ([name, spec]) => spec.search && !(name in fixed),
  );
  const random = seededRandom(seed);
  const results: Trial[] = [];
  for (let index = 0; index < trials; index++) {
    const candidate: Record<string, number> = { ...fixed };
    if (index > 0) for (const [name, spec] of searched) candidate[name] = sample(spec, random);
    const params = resolveParameters(recommender, candidate);
    const started = performance.now();
    const model = await recommender.fit(fitSet, params);
    const evaluation = evaluate(model, fitSet, validation, { ks: [10], protocol });
    const trial = {
      params,
      ndcg10: evaluation.metrics["10"]!.ndcg,
      evaluation,
      seconds: (performance.now() - started) / 1000,
    };
    results.push(trial);
    options.onTrial?.(trial, index, trials);
    if (searched.length === 0) break;
  }
  results.sort((a, b) => b.ndcg10 - a.ndcg10);
  return {
    kind: recommender.kind,
    trials: results,
    best: results[0]!,
    validation: {
      seed: seed + 1,
      fraction,
      trainEvents: split.train.length,
      validationEvents: split.test.length,
      protocol,
    },
  };
}

/** Markdown table of the trials (best first): searched parameters, NDCG@10, recall@10, seconds. */
export function formatTuneTable(result: TuneResult): string {
  const names = Object.keys(result.best.params).filter(
    (name) => recommenderFor(result.kind).parameters[name]?.search,
  );
  const header = [...names, "ndcg@10", "recall@10", "seconds"];
  const rows = result.trials.map((trial) => [
    ...names.map((name) => String(trial.params[name])),
    trial.ndcg10.toFixed(4),
    trial.evaluation.metrics["10"]!.recall.toFixed(4),
    trial.seconds.toFixed(2),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padStart(widths[column]!)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((width) => `${"-".repeat(width + 1)}:`).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}
