import { z } from "zod";
import { moreRecommenders, recommenders } from "../../models/index.ts";
import type { CommandSpec, ParsedCommand } from "../args.ts";
import type { CommandContext } from "../context.ts";
import { datasetOptions, datasetSchema, loadDataset } from "../dataset.ts";
import { describeProtocol } from "../../eval/evaluate.ts";
import { metricsTable, table } from "../output.ts";
import {
  checkHyperParameters,
  describeExclusions,
  evaluateOn,
  evaluationProtocolOf,
  fitForEvaluation,
  flattenMetrics,
  hyperParametersFor,
  parseKs,
  parseModelKinds,
  withSeed,
} from "../pipeline.ts";

export const evaluateSpec = {
  name: "evaluate",
  summary:
    "Train one or more models on a train set and report offline metrics on its test set (nothing is registered).",
  usage:
    "npm run train -- evaluate --model KIND[,KIND…|all] (--train FILE --test FILE | --data FILE [--split …]) [--k 10,20,50] [--json] [--PARAM VALUE …]",
  options: {
    model: {
      type: "string",
      value: "KIND",
      help: `model kind(s): ${[...Object.keys(recommenders), ...Object.keys(moreRecommenders)].join(", ")}, or all (content and hybrid when --items is given)`,
    },
    k: { type: "string", value: "K,…", help: "cut-offs (default 10,20,50)" },
    json: { type: "boolean", help: "print the evaluation as JSON" },
    ...datasetOptions,
  },
  schema: datasetSchema.extend({
    model: z.string({ error: "is required (e.g. --model ials)" }),
    k: z.string().optional(),
    json: z.boolean().default(false),
  }),
  takesHyperParameters: true,
  examples: [
    "npm run train -- evaluate --train train.csv --test test.csv --model popularity",
    "npm run train -- evaluate --data data/ml-latest-small/ratings.csv --model all --threshold 3.5",
    "npm run train -- evaluate --data data/ml-latest-small/ratings.csv --items data/ml-latest-small/movies.csv --cold-items 0.1 --model content,hybrid,popularity --k 20",
  ],
} satisfies CommandSpec<z.ZodType>;

export async function runEvaluate(
  cmd: ParsedCommand<z.infer<typeof evaluateSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const o = cmd.options;
  const kinds = parseModelKinds(o.model, { evaluation: true, itemContent: o.items !== undefined });
  const hyper = hyperParametersFor(kinds, cmd.hyperParameters);
  for (const kind of kinds) checkHyperParameters(kind, hyper[kind]!);
  const ks = parseKs(o.k);
  const data = await loadDataset(o, { needTest: true });
  for (const note of data.notes) ctx.console.err(note);
  const results = [];
  for (const kind of kinds) {
    const fit = await fitForEvaluation(
      kind,
      data.train,
      withSeed(kind, hyper[kind]!, o.seed),
      ctx.console,
    );
    const evaluation = evaluateOn(fit.model, data.train, data.test!, o, ks, data.unseenTestItems);
    const excluded = describeExclusions(evaluation);
    if (excluded && !o.json) ctx.console.err(`${kind}: ${excluded}`);
    results.push({
      model: kind,
      parameters: fit.params,
      fitSeconds: fit.fitMs / 1000,
      evaluation,
      metrics: flattenMetrics(evaluation),
    });
  }
  if (o.json) {
    ctx.console.out(
      JSON.stringify(
        {
          data: data.data,
          protocol: data.protocol,
          evaluationProtocol: evaluationProtocolOf(o),
          notes: data.notes,
          results,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  ctx.console.out(describeProtocol(evaluationProtocolOf(o)));
  for (const r of results) {
    ctx.console.out(
      `\n${r.model} — ${r.evaluation.users} users evaluated, fit ${r.fitSeconds.toFixed(2)} s`,
    );
    ctx.console.out(metricsTable(r.metrics));
  }
  if (results.length > 1) {
    const k = ks[0]!;
    ctx.console.out(`\nsummary @${k}`);
    ctx.console.out(
      table(
        [
          "model",
          `ndcg@${k}`,
          `recall@${k}`,
          `precision@${k}`,
          `map@${k}`,
          `coverage@${k}`,
          "fit s",
        ],
        results.map((r) => [
          r.model,
          r.metrics[`ndcg@${k}`]!,
          r.metrics[`recall@${k}`]!,
          r.metrics[`precision@${k}`]!,
          r.metrics[`map@${k}`]!,
          r.metrics[`coverage@${k}`]!,
          r.fitSeconds,
        ]),
      ),
    );
  }
  return 0;
}
