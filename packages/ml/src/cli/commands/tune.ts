import { z } from "zod";
import { moreRecommenders, recommenders } from "../../models/index.ts";
import {
  DEFAULT_METRIC,
  DEFAULT_TRIALS,
  type TuneOptions,
  type TuneResult,
  checkTuneOptions,
  describeTrial,
  formatTuneTable,
  tune,
} from "../../tune/search.ts";
import type { CommandSpec, OptionSpec, ParsedCommand } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { type DatasetOptions, datasetOptions, datasetSchema, loadDataset } from "../dataset.ts";
import type { Console } from "../output.ts";
import { describeProtocol } from "../../eval/evaluate.ts";
import { evaluationProtocolOf } from "../pipeline.ts";

/** The search's options, shared by `tune` and `train --tune`. */
export const searchOptions: Record<string, OptionSpec> = {
  trials: {
    type: "string",
    value: "N",
    help: `parameter sets per kind, the first being the defaults (default ${DEFAULT_TRIALS})`,
  },
  "validation-fraction": {
    type: "string",
    value: "F",
    help: "share of each user's train items held out for validation (default 0.2)",
  },
  metric: {
    type: "string",
    value: "NAME@K",
    help: `what the search maximises on the validation split (default ${DEFAULT_METRIC})`,
  },
  eta: {
    type: "string",
    value: "N",
    help: "successive halving keeps the best 1/N of each rung (default 3)",
  },
};

export const searchSchema = {
  trials: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_TRIALS),
  validationFraction: z.coerce.number().gt(0).lt(1).default(0.2),
  metric: z.string().default(DEFAULT_METRIC),
  eta: z.coerce.number().int().min(2).max(100).default(3),
};

/** The search's options from a command's, checked before any data is read. */
export function searchFromCommand(
  o: DatasetOptions & z.infer<z.ZodObject<typeof searchSchema>> & { model: string },
  hyper: Record<string, string>,
  console: Console,
): TuneOptions {
  const options: TuneOptions = {
    kinds: o.model,
    // with a catalogue, content and hybrid join the kinds ("all" included)
    ...(o.items
      ? {
          recommenders: {
            ...recommenders,
            content: moreRecommenders.content!,
            hybrid: moreRecommenders.hybrid!,
          },
        }
      : {}),
    trials: o.trials,
    seed: o.seed,
    validationFraction: o.validationFraction,
    metric: o.metric,
    eta: o.eta,
    fixed: hyper, // numbers or a categorical parameter's name, checked by each kind
    interactions: { threshold: o.threshold, confidence: o.confidence },
    protocol: evaluationProtocolOf(o),
    onTrial: (trial, { done, total }) => console.err(describeTrial(trial, done, total)),
  };
  checkTuneOptions(options);
  return options;
}

/** The tables and the winner, as printed by `tune` and `train --tune`. */
export function printTuning(result: TuneResult, console: Console, out = console.out): void {
  out(
    `validation: ${result.validation.validationEvents} events of ${result.validation.validationUsers} users carved from ${result.validation.trainEvents + result.validation.validationEvents} train events (seed ${result.validation.seed}); ${describeProtocol(result.validation.protocol)}`,
  );
  for (const { kind, reason } of result.leftOut) out(`${kind} left out of --model all: ${reason}`);
  out(formatTuneTable(result, { top: 10 }));
  const flags = Object.entries(result.best.params)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}`)
    .join(" ");
  out(
    `\nbest: ${result.best.kind}, validation ${result.metric.label} ${result.best.score.toFixed(4)} (${result.trials.length} trials, ${result.seconds.toFixed(1)} s): --model ${result.best.kind} ${flags}`,
  );
}

export const tuneSpec = {
  name: "tune",
  summary:
    "Hyper-parameter search (successive halving over seeded random candidates) on a validation split carved from the train data; prints every trial and the best kind and parameters.",
  usage:
    "npm run train -- tune --model KIND[,KIND…]|all (--data FILE | --snapshots DIR | --train FILE --test FILE) [--trials N] [--metric recall@20] [--PARAM VALUE …]",
  options: {
    model: {
      type: "string",
      value: "KIND",
      help: `model kind, a comma list or all: ${Object.keys(recommenders).join(", ")}`,
    },
    ...searchOptions,
    json: { type: "boolean", help: "print the trials as JSON" },
    ...datasetOptions,
  },
  schema: datasetSchema.extend({
    model: z.string({ error: "is required (e.g. --model ials, or all)" }),
    ...searchSchema,
    json: z.boolean().default(false),
  }),
  takesHyperParameters: true,
  examples: [
    "npm run train -- tune --model all --train ../shared/datasets/citeulike-t/train.csv --test ../shared/datasets/citeulike-t/test.csv",
    "npm run train -- tune --model ials --data data/ratings.csv --trials 9 --epochs 10",
  ],
} satisfies CommandSpec<z.ZodType>;

export async function runTune(
  cmd: ParsedCommand<z.infer<typeof tuneSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const o = cmd.options;
  const options = searchFromCommand(o, cmd.hyperParameters, ctx.console);
  // Only the train side is searched on; the test side is never passed on.
  const data = await loadDataset(o, { needTest: false });
  data.notes.forEach((n) => ctx.console.err(n));
  const result = await tune(data.train.log, { ...options, itemContent: data.train.itemContent });
  if (o.json) {
    ctx.console.out(
      JSON.stringify(
        {
          metric: result.metric.label,
          best: { kind: result.best.kind, params: result.best.params, score: result.best.score },
          kinds: result.kinds.map(({ kind, best, candidates, trials, seconds }) => ({
            kind,
            score: best.score,
            params: best.params,
            candidates,
            trials,
            seconds,
          })),
          validation: result.validation,
          leftOut: result.leftOut,
          trials: result.trials.map(({ metrics: _metrics, ...trial }) => trial),
          seconds: result.seconds,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  printTuning(result, ctx.console);
  return 0;
}
