import { z } from "zod";
import { recommenders } from "../../models/index.ts";
import { formatTuneTable, tune } from "../../tune/search.ts";
import type { CommandSpec, ParsedCommand } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { datasetOptions, datasetSchema, loadDataset } from "../dataset.ts";
import { epochProgress } from "../output.ts";
import { describeProtocol } from "../../eval/evaluate.ts";
import { checkHyperParameters, evaluationProtocolOf } from "../pipeline.ts";

export const tuneSpec = {
  name: "tune",
  summary:
    "Random hyper-parameter search on a validation split carved from the train data, best by NDCG@10; prints every trial.",
  usage:
    "npm run train -- tune --model KIND (--data FILE | --snapshots DIR | --train FILE --test FILE) [--trials N] [--PARAM VALUE …]",
  options: {
    model: {
      type: "string",
      value: "KIND",
      help: `model kind: ${Object.keys(recommenders).join(", ")}`,
    },
    trials: {
      type: "string",
      value: "N",
      help: "parameter sets to try, the first being the defaults (default 20)",
    },
    "validation-fraction": {
      type: "string",
      value: "F",
      help: "share of each user's train items used for validation (default 0.2)",
    },
    json: { type: "boolean", help: "print the trials as JSON" },
    ...datasetOptions,
  },
  schema: datasetSchema.extend({
    model: z.string({ error: "is required (e.g. --model ials)" }),
    trials: z.coerce.number().int().min(1).max(10_000).default(20),
    validationFraction: z.coerce.number().gt(0).lt(1).default(0.2),
    json: z.boolean().default(false),
  }),
  takesHyperParameters: true,
  examples: [
    "npm run train -- tune --model ials --data data/ml-latest-small/ratings.csv --trials 10 --epochs 10",
  ],
} satisfies CommandSpec<z.ZodType>;

export async function runTune(
  cmd: ParsedCommand<z.infer<typeof tuneSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const o = cmd.options;
  // Parameters given on the command line are held fixed; the model validates names and ranges.
  checkHyperParameters(o.model, cmd.hyperParameters);
  const fixed = Object.fromEntries(
    Object.entries(cmd.hyperParameters).map(([k, v]) => [k, Number(v)]),
  );
  const data = await loadDataset(o, { needTest: false });
  data.notes.forEach((n) => ctx.console.err(n));
  const progress = epochProgress(`tune ${o.model}`, ctx.console);
  const started = performance.now();
  const result = await tune(data.train.log, {
    kind: o.model,
    trials: o.trials,
    seed: o.seed,
    validationFraction: o.validationFraction,
    fixed,
    interactions: { confidence: o.confidence },
    protocol: evaluationProtocolOf(o),
    onTrial: (_trial, index, total) =>
      progress.onProgress({
        epoch: index + 1,
        epochs: total,
        elapsedMs: performance.now() - started,
      }),
  }).finally(() => progress.stop());
  if (o.json) {
    ctx.console.out(
      JSON.stringify(
        {
          kind: result.kind,
          validation: result.validation,
          trials: result.trials.map(({ params, ndcg10, seconds }) => ({ params, ndcg10, seconds })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  ctx.console.out(describeProtocol(result.validation.protocol));
  ctx.console.out(formatTuneTable(result));
  const flags = Object.entries(result.best.params)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}`)
    .join(" ");
  ctx.console.out(
    `\nbest NDCG@10 ${result.best.ndcg10.toFixed(4)} (${result.trials.length} trials): ${flags}`,
  );
  return 0;
}
