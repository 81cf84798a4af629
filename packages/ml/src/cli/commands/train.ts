/**
 * train: load → split → fit (progress per epoch) → evaluate → refit on all the data (unless
 * --fit-on train) → export ONNX → registry version → DB rows. The evaluation needs a model that
 * never saw the held-out events; the version that serves should have seen every user's history. The training run row exists from the start so a failure (NaN, bad data) is recorded as
 * `failed`; the registry version is published last and atomically, so a failed run leaves none.
 */
import { BadInput } from "@reco/contracts";
import { z } from "zod";
import type { Database } from "@reco/db";
import { buildInteractions, type ConfidenceMode } from "../../data/index.ts";
import { recommenderFor, recommenders } from "../../models/index.ts";
import type { TuneResult } from "../../tune/search.ts";
import { tuneAndTrain } from "../../tune/train.ts";
import { finishTrainingRun, recordModelVersion, startTrainingRun } from "../../registry/db.ts";
import { publishVersion } from "../../registry/store.ts";
import { nextStoredVersion, uploadVersion } from "../../registry/remote.ts";
import { SNAPSHOT_PREFIX, downloadSnapshots } from "@reco/snapshots";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CommandSpec, ParsedCommand } from "../args.ts";
import { type CommandContext, openCommandDatabase, registryDirOf } from "../context.ts";
import { datasetOptions, datasetSchema, describeSources, loadDataset } from "../dataset.ts";
import { describeProtocol } from "../../eval/evaluate.ts";
import { epochProgress, metricsTable, table } from "../output.ts";
import { printTuning, searchFromCommand, searchOptions, searchSchema } from "./tune.ts";
import {
  checkHyperParameters,
  describeExclusions,
  evaluateOn,
  evaluationProtocolOf,
  type FitResult,
  fitWithProgress,
  flattenMetrics,
  parseKs,
  withSeed,
} from "../pipeline.ts";

export const trainSpec = {
  name: "train",
  summary:
    "Train a model, evaluate it on a held-out split, export it to ONNX and publish a new immutable registry version (stage candidate).",
  usage:
    "npm run train -- train --model KIND (--data FILE | --snapshots DIR | --train FILE --test FILE) [--name NAME] [--PARAM VALUE …]\n       npm run train -- train --tune [--model KIND[,KIND…]|all] (…data…) [--trials N] [--PARAM VALUE …]",
  options: {
    model: {
      type: "string",
      value: "KIND",
      help: `model kind: ${Object.keys(recommenders).join(", ")}; with --tune also a comma list or all (the default)`,
    },
    tune: {
      type: "boolean",
      help: "search the parameters (and with several kinds the kind) on a validation split carved from the train data, then fit the best on all of it; --PARAM VALUE are held fixed",
    },
    ...searchOptions,
    name: { type: "string", value: "NAME", help: "registry model name (default: the kind)" },
    version: { type: "string", value: "V", help: "version label (default: next v<N>)" },
    registry: {
      type: "string",
      value: "DIR",
      help: "registry directory (default $DATA_DIR/registry)",
    },
    k: { type: "string", value: "K,…", help: "evaluation cut-offs (default 10,20,50)" },
    "fit-on": {
      type: "string",
      value: "WHAT",
      help: "all (default: after the held-out evaluation, refit on every interaction and publish that) | train (publish the model fitted on the split's train side)",
    },
    "no-db": { type: "boolean", help: "do not write the training run and model version rows" },
    json: { type: "boolean", help: "print the summary as JSON" },
    ...datasetOptions,
  },
  schema: datasetSchema.extend({
    model: z.string().optional(),
    tune: z.boolean().default(false),
    ...searchSchema,
    name: z.string().optional(),
    version: z.string().optional(),
    registry: z.string().optional(),
    k: z.string().optional(),
    fitOn: z.enum(["all", "train"]).default("all"),
    noDb: z.boolean().default(false),
    json: z.boolean().default(false),
  }),
  takesHyperParameters: true,
  examples: [
    "npm run train -- train --model ials --data data/ml-latest-small/ratings.csv --factors 64 --epochs 15",
    "npm run train -- train --model popularity --snapshots .data/snapshots --split none",
    "npm run train -- train --tune --model all --train ../shared/datasets/citeulike-t/train.csv --test ../shared/datasets/citeulike-t/test.csv --no-db",
  ],
} satisfies CommandSpec<z.ZodType>;

export async function runTrain(
  cmd: ParsedCommand<z.infer<typeof trainSpec.schema>>,
  ctx: CommandContext,
): Promise<number> {
  const o = cmd.options;
  if (!o.model && !o.tune)
    throw new BadInput("--model is required (e.g. --model ials), or --tune to search the kind too");
  const requested = o.model ?? "all";
  // Unknown kinds or parameters, bad counts: fail before touching data or database.
  const search = o.tune
    ? searchFromCommand({ ...o, model: requested }, cmd.hyperParameters, ctx.console)
    : undefined;
  let kind = requested;
  let hyper: Record<string, string> = {};
  if (!search) {
    hyper = withSeed(kind, cmd.hyperParameters, o.seed);
    checkHyperParameters(kind, hyper);
  }
  const ks = parseKs(o.k);
  const severalKinds = requested === "all" || requested.includes(",");
  const name = o.name ?? (severalKinds ? "tuned" : recommenderFor(requested).kind);
  const log: string[] = [];
  const note = (line: string) => {
    log.push(line);
    ctx.console.err(line);
  };
  const timings: Record<string, number> = {};
  const timed = async <T>(phase: string, step: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    try {
      return await step();
    } finally {
      timings[phase] = Math.round(performance.now() - started);
    }
  };

  let db: Database | undefined;
  let runId: number | undefined;
  let fetchedSnapshots: string | undefined;
  if (!o.noDb) {
    db = await openCommandDatabase(ctx);
    runId = await startTrainingRun(db.prisma, {
      modelName: name,
      kind,
      params: { ...cmd.hyperParameters, source: describeSources(o), split: o.split },
    });
  }
  try {
    // --snapshots object:… reads the bucket's snapshots, fetched into a scratch directory for DuckDB.
    if (o.snapshots?.startsWith("object:")) {
      if (!ctx.storage)
        throw new BadInput(
          `--snapshots ${o.snapshots} reads object storage: set S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY`,
        );
      fetchedSnapshots = await mkdtemp(path.join(tmpdir(), "reco-snapshots-"));
      const { files } = await timed("fetchSnapshotsMs", () =>
        downloadSnapshots(ctx.storage!, fetchedSnapshots!),
      );
      note(`fetched ${files} snapshot files from ${ctx.storage.location}${SNAPSHOT_PREFIX}`);
    }
    const source = fetchedSnapshots ? { ...o, snapshots: fetchedSnapshots } : o;
    const data = await timed("loadMs", () => loadDataset(source, { needTest: false }));
    data.notes.forEach(note);
    note(
      `data: ${data.data.nInteractions} interactions, ${data.data.nUsers} users, ${data.data.nItems} items (${JSON.stringify(data.protocol)})`,
    );
    let fit: FitResult;
    let tuning: TuneResult | undefined;
    if (search) {
      // Tuned on a validation split of the train side only; the winner is fitted on all of it.
      const progress = epochProgress("final fit", ctx.console);
      const tuned = await timed("tuneMs", () =>
        tuneAndTrain(data.train.log, {
          ...search,
          itemContent: data.train.itemContent,
          hooks: progress,
        }),
      ).finally(() => progress.stop());
      tuning = tuned.tuning;
      printTuning(tuning, ctx.console, o.json ? ctx.console.err : ctx.console.out);
      kind = tuned.kind;
      hyper = Object.fromEntries(Object.entries(tuned.params).map(([k, v]) => [k, String(v)]));
      fit = { model: tuned.model, params: tuned.params, fitMs: tuned.fitSeconds * 1000 };
      timings.fitMs = Math.round(fit.fitMs);
      note(
        `tuned ${tuning.trials.length} trials in ${tuning.seconds.toFixed(1)} s: ${kind} (validation ${tuning.metric.label} ${tuning.best.score.toFixed(4)})`,
      );
    } else {
      fit = await timed("fitMs", () => fitWithProgress(kind, data.train, hyper, ctx.console));
    }
    note(`fit ${kind} ${JSON.stringify(fit.params)} in ${(fit.fitMs / 1000).toFixed(2)} s`);
    let metrics: Record<string, number> = {};
    let evaluation: Record<string, unknown> | undefined;
    if (data.test) {
      const e = await timed("evaluateMs", () =>
        evaluateOn(fit.model, data.train, data.test!, o, ks, data.unseenTestItems),
      );
      metrics = flattenMetrics(e);
      evaluation = {
        ...data.protocol,
        evaluationProtocol: e.protocol,
        unrankableTestItems: e.unrankableTestItems,
        ks,
        users: e.users,
        ...e.excluded,
        trainInteractions: data.data.nInteractions,
        testEvents: data.test.length,
      };
      note(describeProtocol(e.protocol));
      const excluded = describeExclusions(e);
      if (excluded) note(excluded);
    }
    // The served version: refit with the same parameters and seed on every interaction, so no
    // user's held-out fifth is missing from what they are served (the metrics stay the split's).
    let served = { fit, interactions: data.train, data: data.data };
    const refitting = o.fitOn === "all" && data.all !== undefined;
    if (refitting) {
      const everything = buildInteractions(data.all!, {
        threshold: o.threshold,
        confidence: o.confidence as ConfidenceMode,
      });
      // Same id space as the train side, so the same item metadata.
      everything.itemContent = data.train.itemContent;
      const nInteractions = everything.userItems.indptr[everything.nUsers]!;
      note(
        `refitting ${kind} on all ${nInteractions} interactions (evaluated above on ${data.data.nInteractions})`,
      );
      const refit = await timed("refitMs", () =>
        fitWithProgress(kind, everything, hyper, ctx.console),
      );
      note(`refit in ${(refit.fitMs / 1000).toFixed(2)} s`);
      served = { fit: refit, interactions: everything, data: { ...data.data, nInteractions } };
    }
    const fittedOn = refitting || (!data.test && !o.train) ? "all" : "train";
    // With object storage the version is assembled in a scratch registry, uploaded (files, then
    // the manifest), and only then recorded: a crash before the row leaves no row at all.
    const storage = ctx.storage;
    const staging = storage
      ? await mkdtemp(path.join(tmpdir(), "reco-publish-"))
      : registryDirOf(ctx, o.registry);
    const published = await timed("exportMs", async () =>
      publishVersion({
        registryDir: staging,
        name,
        version: o.version ?? (storage ? await nextStoredVersion(storage, name) : undefined),
        algorithm: kind,
        params: served.fit.model,
        idMaps: served.interactions.ids,
        trainHistory: served.interactions.userItems,
        hyperparameters: fit.params,
        data: served.data,
        fittedOn,
        metrics,
        evaluation,
        training: {
          seconds: (fit.fitMs + (refitting ? served.fit.fitMs : 0)) / 1000,
          ...(runId !== undefined ? { runId } : {}),
        },
      }),
    );
    if (storage) {
      try {
        published.dir = await timed("uploadMs", () =>
          uploadVersion(storage, published.dir, published.metadata),
        );
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
      note(`uploaded ${name} ${published.metadata.version} to ${storage.location}`);
    }
    note(`published ${name} ${published.metadata.version} → ${published.dir}`);
    if (db && runId !== undefined) {
      const versionId = await recordModelVersion(db.prisma, published.dir, published.metadata);
      await finishTrainingRun(db.prisma, runId, {
        status: "succeeded",
        log: log.join("\n"),
        timings,
        modelVersionId: versionId,
        params: {
          ...fit.params,
          source: describeSources(o),
          ...data.protocol,
          fitOn: fittedOn,
          ...(tuning ? { tuned: tuningSummary(tuning) } : {}),
        },
      });
    }
    if (o.json) {
      ctx.console.out(
        JSON.stringify(
          {
            name,
            version: published.metadata.version,
            dir: published.dir,
            runId,
            fittedOn,
            kind,
            params: fit.params,
            ...(tuning ? { tuned: tuningSummary(tuning) } : {}),
            interactions: served.data.nInteractions,
            metrics,
            timings,
          },
          null,
          2,
        ),
      );
    } else {
      ctx.console.out(
        table(
          ["model", "version", "users×items", "fit s", "export check", "artifact"],
          [
            [
              `${name} (${kind})`,
              published.metadata.version,
              `${data.data.nUsers}×${data.data.nItems}`,
              (fit.fitMs + (refitting ? served.fit.fitMs : 0)) / 1000,
              `max diff ${published.metadata.exportCheck.maxAbsDiff.toExponential(1)}`,
              published.dir,
            ],
          ],
        ),
      );
      if (Object.keys(metrics).length) {
        ctx.console.out(describeProtocol(evaluationProtocolOf(o)));
        ctx.console.out(metricsTable(metrics));
      }
    }
    return 0;
  } catch (error) {
    if (db && runId !== undefined) {
      await finishTrainingRun(db.prisma, runId, {
        status: "failed",
        log: log.join("\n"),
        error: (error as Error).message,
        timings,
      });
    }
    throw error;
  } finally {
    await db?.close();
    if (fetchedSnapshots) await rm(fetchedSnapshots, { recursive: true, force: true });
  }
}

/** What the run row and --json keep of a search: the metric, each kind's winner, the trials. */
function tuningSummary(tuning: TuneResult) {
  return {
    metric: tuning.metric.label,
    validation: tuning.validation,
    kinds: tuning.kinds.map(({ kind, best, trials }) => ({
      kind,
      score: best.score,
      params: best.params,
      trials,
    })),
    trials: tuning.trials.length,
    seconds: tuning.seconds,
  };
}
