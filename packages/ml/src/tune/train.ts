import { type Interactions, buildInteractions } from "../data/interactions.ts";
import type { InteractionLog } from "../data/log.ts";
import { recommenders as registeredRecommenders } from "../models/index.ts";
import type { FitHooks, HyperParameters } from "../models/recommender.ts";
import type { ModelParams } from "../params.ts";
import { type TuneOptions, type TuneResult, tune } from "./search.ts";

export interface TunedModel {
  kind: string;
  /** the winner's parameters, used for the final fit */
  params: HyperParameters;
  /** fitted on every event of `train` */
  model: ModelParams;
  /** what the final model was fitted on (id maps, histories) */
  interactions: Interactions;
  tuning: TuneResult;
  fitSeconds: number;
}

/**
 * Tunes on a validation split carved from `train` (see `tune`), then fits the winning kind and
 * parameters on all of `train`: the one entry point of `train --tune` and scheduled retraining.
 * A kind that takes a `seed` gets `options.seed` unless it is fixed.
 */
export async function tuneAndTrain(
  train: InteractionLog,
  options: TuneOptions & { hooks?: FitHooks },
): Promise<TunedModel> {
  const registry = options.recommenders ?? registeredRecommenders;
  const tuning = await tune(train, options);
  const kind = tuning.best.kind;
  const recommender = registry[kind]!;
  const interactions = buildInteractions(train, options.interactions);
  if (options.itemContent) interactions.itemContent = options.itemContent;
  const started = performance.now();
  const model = await recommender.fit(interactions, tuning.best.params, options.hooks);
  return {
    kind,
    params: tuning.best.params,
    model,
    interactions,
    tuning,
    fitSeconds: (performance.now() - started) / 1000,
  };
}
