import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadDelimited } from "../data/delimited.ts";
import { type InteractionOptions, buildInteractions } from "../data/interactions.ts";
import { randomHoldout } from "../data/split.ts";
import { fitModel, recommenders } from "../models/index.ts";
import type { HyperParameters } from "../models/recommender.ts";
import { DEFAULT_KS, type Evaluation, evaluate } from "./evaluate.ts";
import { formatMetricsTable } from "./table.ts";

export const DEMO_RATINGS = path.resolve(
  fileURLToPath(import.meta.url),
  "../../../../../data/ml-latest-small/ratings.csv",
);

export interface CompareOptions {
  ratingsPath?: string;
  seed?: number;
  testFraction?: number;
  ks?: readonly number[];
  kinds?: string[];
  /** per-kind parameter overrides (defaults otherwise) */
  params?: Record<string, Record<string, number>>;
  interactions?: InteractionOptions;
  onModel?: (row: ComparisonRow) => void;
}

export interface ComparisonRow {
  kind: string;
  params: HyperParameters;
  trainSeconds: number;
  evaluation: Evaluation;
}

export interface Comparison {
  ratingsPath: string;
  split: { seed: number; testFraction: number; trainEvents: number; testEvents: number };
  rows: ComparisonRow[];
  /** best personalised NDCG@k / popularity NDCG@k, k = 10 when evaluated (else the smallest K) */
  liftOverPopularity: { best: string; ratio: number; k: number };
}

const NON_PERSONALISED = new Set(["popularity", "trending"]);

/** Trains every model kind on one fixed-seed per-user split and evaluates each on the held-out part. */
export async function compareModels(options: CompareOptions = {}): Promise<Comparison> {
  const ratingsPath = options.ratingsPath ?? DEMO_RATINGS;
  const seed = options.seed ?? 42;
  const testFraction = options.testFraction ?? 0.2;
  const { log } = await loadDelimited(ratingsPath);
  const split = randomHoldout(log, { seed, testFraction });
  const train = buildInteractions(split.train, options.interactions);
  const test = buildInteractions(split.test, options.interactions);
  const rows: ComparisonRow[] = [];
  for (const kind of options.kinds ?? Object.keys(recommenders)) {
    const started = performance.now();
    const { params, model } = await fitModel(kind, train, options.params?.[kind]);
    const trainSeconds = (performance.now() - started) / 1000;
    const row = {
      kind,
      params,
      trainSeconds,
      evaluation: evaluate(model, train, test, { ks: options.ks ?? DEFAULT_KS }),
    };
    rows.push(row);
    options.onModel?.(row);
  }
  const ks = rows[0]?.evaluation.ks ?? [10];
  const liftK = ks.includes(10) ? 10 : ks[0]!;
  const ndcg10 = (row: ComparisonRow) => row.evaluation.metrics[String(liftK)]?.ndcg ?? Number.NaN;
  const baseline = rows.find((row) => row.kind === "popularity");
  const best = rows
    .filter((row) => !NON_PERSONALISED.has(row.kind))
    .sort((a, b) => ndcg10(b) - ndcg10(a))[0];
  return {
    ratingsPath,
    split: { seed, testFraction, trainEvents: split.train.length, testEvents: split.test.length },
    rows,
    liftOverPopularity: {
      best: best?.kind ?? "none",
      ratio: best && baseline ? ndcg10(best) / ndcg10(baseline) : Number.NaN,
      k: liftK,
    },
  };
}

/** The printed report: one Markdown table per K, train times, and the lift over popularity. */
export function formatComparison(comparison: Comparison): string {
  const ks = comparison.rows[0]?.evaluation.ks ?? [];
  const named = comparison.rows.map((row) => ({ name: row.kind, evaluation: row.evaluation }));
  const lines = [
    `data: ${comparison.ratingsPath}`,
    `split: per-user random holdout, test fraction ${comparison.split.testFraction}, seed ${comparison.split.seed} ` +
      `(${comparison.split.trainEvents} train / ${comparison.split.testEvents} test events); ` +
      `${comparison.rows[0]?.evaluation.users ?? 0} users evaluated`,
    "",
  ];
  for (const k of ks) lines.push(`K = ${k}`, "", formatMetricsTable(named, { ks: [k] }), "");
  lines.push("| model | train seconds | parameters |", "|---|---:|---|");
  for (const row of comparison.rows) {
    lines.push(`| ${row.kind} | ${row.trainSeconds.toFixed(2)} | ${JSON.stringify(row.params)} |`);
  }
  const { best, ratio, k } = comparison.liftOverPopularity;
  lines.push("", `best personalised model by NDCG@${k}: ${best}, ${ratio.toFixed(3)}× popularity`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ratings: { type: "string" },
      seed: { type: "string", default: "42" },
      "test-fraction": { type: "string", default: "0.2" },
      json: { type: "boolean", default: false },
    },
  });
  const comparison = await compareModels({
    ratingsPath: values.ratings,
    seed: Number(values.seed),
    testFraction: Number(values["test-fraction"]),
    onModel: (row) =>
      process.stderr.write(`trained ${row.kind} in ${row.trainSeconds.toFixed(2)} s\n`),
  });
  process.stdout.write(
    `${values.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison)}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: Error) => {
    process.stderr.write(`compare failed: ${error.message}\n`);
    process.exit(1);
  });
}
