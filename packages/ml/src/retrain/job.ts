/**
 * One retraining job, without a database: Parquet snapshots → fit the kind with its (tuned)
 * defaults on a per-user random split → evaluate the held-out fifth (field protocol, as `train`
 * does) → refit on every interaction → publish the registry artifact. The caller records the
 * version row afterwards, so a process killed at any point before leaves no registered version.
 * Progress is reported as a phase and a fraction of the whole job, for the run row.
 */
import { buildInteractions } from "../data/index.ts";
import { describeProtocol } from "../eval/evaluate.ts";
import { fitModel } from "../models/index.ts";
import type { ArtifactMetadata } from "../registry/metadata.ts";
import { publishVersion } from "../registry/store.ts";
import { datasetSchema, loadDataset } from "../cli/dataset.ts";
import { checkHyperParameters, evaluateOn, flattenMetrics, withSeed } from "../cli/pipeline.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ObjectStorage, StorageEnv } from "@reco/storage";
import { nextStoredVersion, uploadVersion } from "../registry/remote.ts";

export type RetrainPhase = "load" | "fit" | "evaluate" | "refit" | "publish";

/** Where each phase starts and ends in the job's 0..1 progress (fits dominate). */
const PHASE_SPAN: Record<RetrainPhase, [number, number]> = {
  load: [0, 0.1],
  fit: [0.1, 0.5],
  evaluate: [0.5, 0.6],
  refit: [0.6, 0.9],
  publish: [0.9, 1],
};

export interface RetrainJobOptions {
  snapshotsDir: string;
  registryDir: string;
  /** registry model name */
  name: string;
  /** version label (default: the registry's next v<N>) */
  version?: string;
  kind: string;
  /** parameters held fixed (strings, as on the CLI); the kind's defaults fill the rest */
  params?: Record<string, string>;
  /** evaluation cut-offs (default 10, 20, 50) */
  ks?: number[];
  seed?: number;
  testFraction?: number;
  /** the training run row, kept in the artifact's metadata */
  runId?: number;
  onProgress?: (phase: RetrainPhase, fraction: number) => void;
  /**
   * S3 mode, as plain variables so the job can run on a worker thread: snapshots are read from the
   * bucket (downloaded for DuckDB), the version is uploaded there (files, then the manifest) and
   * the result's `dir` is its `object:` path for the version row; `registryDir` is not used.
   */
  objectStorage?: StorageEnv;
}

export interface RetrainJobResult {
  dir: string;
  metadata: ArtifactMetadata;
  metrics: Record<string, number>;
  params: Record<string, number>;
  log: string[];
  /** phase → milliseconds */
  timings: Record<string, number>;
}

export async function runRetrainJob(o: RetrainJobOptions): Promise<RetrainJobResult> {
  // checked before anything is fetched: a bad parameter fails the job at once
  checkHyperParameters(o.kind, withSeed(o.kind, o.params ?? {}, o.seed ?? 42));
  let storage: ObjectStorage | undefined;
  const scratch: string[] = [];
  try {
    if (o.objectStorage?.S3_ENDPOINT) {
      const { createObjectStorage } = await import("@reco/storage");
      storage = createObjectStorage(o.objectStorage, "/unused");
    }
    return await retrain(o, storage, scratch);
  } finally {
    await storage?.close();
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  }
}

async function retrain(
  o: RetrainJobOptions,
  storage: ObjectStorage | undefined,
  scratch: string[],
): Promise<RetrainJobResult> {
  const hyper = withSeed(o.kind, o.params ?? {}, o.seed ?? 42);
  const ks = o.ks ?? [10, 20, 50];
  const log: string[] = [];
  const timings: Record<string, number> = {};
  const report = (phase: RetrainPhase, within: number) => {
    const [from, to] = PHASE_SPAN[phase];
    o.onProgress?.(phase, from + (to - from) * Math.min(1, Math.max(0, within)));
  };
  const timed = async <T>(phase: RetrainPhase, step: () => Promise<T> | T): Promise<T> => {
    report(phase, 0);
    const started = performance.now();
    try {
      return await step();
    } finally {
      timings[`${phase}Ms`] = Math.round(performance.now() - started);
    }
  };
  const fitHooks = (phase: "fit" | "refit") => ({
    onProgress: ({ epoch, epochs }: { epoch: number; epochs: number }) =>
      report(phase, epochs > 0 ? epoch / epochs : 1),
  });
  let snapshotsDir = o.snapshotsDir;
  let registryDir = o.registryDir;
  if (storage) {
    const { downloadSnapshots } = await import("@reco/snapshots");
    snapshotsDir = await mkdtemp(path.join(tmpdir(), "reco-retrain-snapshots-"));
    registryDir = await mkdtemp(path.join(tmpdir(), "reco-retrain-publish-"));
    scratch.push(snapshotsDir, registryDir);
    const { files } = await timed("load", () => downloadSnapshots(storage, snapshotsDir));
    log.push(`fetched ${files} snapshot files from ${storage.location}`);
  }

  const options = datasetSchema.parse({
    snapshots: snapshotsDir,
    split: "random",
    testFraction: o.testFraction ?? 0.2,
    seed: o.seed ?? 42,
  });
  const data = await timed("load", () => loadDataset(options, { needTest: true }));
  log.push(...data.notes);
  log.push(
    `data: ${data.data.nInteractions} interactions, ${data.data.nUsers} users, ${data.data.nItems} items (${JSON.stringify(data.protocol)})`,
  );
  const fit = await timed("fit", () => fitModel(o.kind, data.train, hyper, fitHooks("fit")));
  log.push(`fit ${o.kind} ${JSON.stringify(fit.params)}`);
  const e = await timed("evaluate", () =>
    evaluateOn(fit.model, data.train, data.test!, options, ks),
  );
  const metrics = flattenMetrics(e);
  log.push(describeProtocol(e.protocol), `metrics ${JSON.stringify(metrics)}`);
  const everything = buildInteractions(data.all!, {
    threshold: options.threshold,
    confidence: options.confidence,
  });
  everything.itemContent = data.train.itemContent;
  const nInteractions = everything.userItems.indptr[everything.nUsers]!;
  const refit = await timed("refit", () => fitModel(o.kind, everything, hyper, fitHooks("refit")));
  log.push(`refit on all ${nInteractions} interactions`);
  const published = await timed("publish", async () =>
    publishVersion({
      registryDir,
      name: o.name,
      ...(o.version
        ? { version: o.version }
        : storage
          ? { version: await nextStoredVersion(storage, o.name) }
          : {}),
      algorithm: o.kind,
      params: refit.model,
      idMaps: everything.ids,
      trainHistory: everything.userItems,
      hyperparameters: fit.params,
      data: { ...data.data, nInteractions },
      fittedOn: "all",
      metrics,
      evaluation: {
        ...data.protocol,
        evaluationProtocol: e.protocol,
        unrankableTestItems: e.unrankableTestItems,
        ks,
        users: e.users,
        ...e.excluded,
        trainInteractions: data.data.nInteractions,
        testEvents: data.test!.length,
      },
      training: {
        seconds: ((timings.fitMs ?? 0) + (timings.refitMs ?? 0)) / 1000,
        ...(o.runId !== undefined ? { runId: o.runId } : {}),
      },
    }),
  );
  if (storage) published.dir = await uploadVersion(storage, published.dir, published.metadata);
  report("publish", 1);
  log.push(`published ${o.name} ${published.metadata.version} → ${published.dir}`);
  return {
    dir: published.dir,
    metadata: published.metadata,
    metrics,
    params: fit.params,
    log,
    timings,
  };
}
