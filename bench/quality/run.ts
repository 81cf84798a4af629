/**
 * Recommendation quality of every model kind on three data sets, field protocol (test items never
 * seen in train count as misses), REC@20 and NDCG@20 on each data set's held-out test:
 *
 * - demo: data/ml-latest-small/ratings.csv (MovieLens latest-small), split as the CLI does by default (random
 *   per-user 20 % holdout, seed 42), every rating a positive;
 * - citeulike-t: ../shared/datasets/citeulike-t, its own train.csv / test.csv;
 * - filmtrust: ../shared/datasets/filmtrust/ratings.csv, a seeded per-user 80/20 split (seed 42),
 *   ratings treated as implicit (every rating, 0.5–4, is a positive of weight 1).
 *
 * Each kind runs with its defaults and "tuned": the best of `tune` (the library's search, seeded,
 * N candidates per kind) on a validation split carved from the train side only, refitted on all of
 * train. Every row is printed with its ratio to TopPop and to the best item-item baseline of the
 * same run (the best default item-kNN, P3alpha or RP3beta on that data set, by REC@20).
 *
 *   npx tsx bench/quality/run.ts                                   # everything, 6 trials per kind
 *   npx tsx bench/quality/run.ts --datasets citeulike --trials 3   # fewer
 *   npx tsx bench/quality/run.ts --kinds item-knn,p3alpha --no-tuned
 *
 * A kind whose default fit takes longer than --max-tune-fit-seconds (10) on a data set is not
 * tuned there (said in the output): EASE takes ~25 s per fit on the demo data and minutes on
 * citeulike-t (18,412 items in train), and a search refits ~1.5 × trials times.
 *
 * Progress goes to stderr, the table (markdown) to stdout.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type InteractionLog,
  type Interactions,
  type ModelParams,
  buildInteractions,
  evaluate,
  fitModel,
  loadDelimited,
  loadExplicitSplit,
  randomHoldout,
  recommenderFor,
  recommenders,
  tune,
} from "@reco/ml";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shared = path.resolve(repo, "../shared/datasets");

const { values } = parseArgs({
  options: {
    datasets: { type: "string", default: "demo,citeulike,filmtrust" },
    kinds: { type: "string", default: "all" },
    trials: { type: "string", default: "6" },
    seed: { type: "string", default: "42" },
    "no-tuned": { type: "boolean", default: false },
    "max-tune-fit-seconds": { type: "string", default: "10" },
  },
});
const trials = Number(values.trials);
const maxTuneFitSeconds = Number(values["max-tune-fit-seconds"]);
const seed = Number(values.seed);
if (!Number.isInteger(trials) || trials < 1)
  throw new Error(`--trials must be ≥ 1, got ${values.trials}`);
const kinds = values.kinds === "all" ? Object.keys(recommenders) : values.kinds.split(",");
for (const kind of kinds) recommenderFor(kind);
const ITEM_ITEM_BASELINES = ["item-knn", "p3alpha", "rp3beta"];
const K = 20;

interface DataSet {
  name: string;
  trainLog: InteractionLog;
  train: Interactions;
  test: Interactions;
  /** per train user, test positives whose item is outside the train id space */
  unseen?: Int32Array;
}

async function load(name: string): Promise<DataSet> {
  if (name === "citeulike") {
    const dir = path.join(shared, "citeulike-t");
    const split = await loadExplicitSplit(path.join(dir, "train.csv"), path.join(dir, "test.csv"));
    const train = buildInteractions(split.train);
    const { indptr } = buildInteractions(split.unseenTestItems).userItems;
    const unseen = new Int32Array(train.nUsers);
    for (let u = 0; u < unseen.length && u + 1 < indptr.length; u++)
      unseen[u] = indptr[u + 1]! - indptr[u]!;
    return { name, trainLog: split.train, train, test: buildInteractions(split.test), unseen };
  }
  const file =
    name === "demo"
      ? path.join(repo, "data/ml-latest-small/ratings.csv")
      : name === "filmtrust"
        ? path.join(shared, "filmtrust/ratings.csv")
        : undefined;
  if (!file) throw new Error(`unknown data set ${name} (demo, citeulike, filmtrust)`);
  const { log } = await loadDelimited(file);
  const split = randomHoldout(log, { testFraction: 0.2, seed: 42 });
  return {
    name,
    trainLog: split.train,
    train: buildInteractions(split.train),
    test: buildInteractions(split.test),
  };
}

interface Row {
  dataset: string;
  kind: string;
  variant: "defaults" | "tuned";
  params: Record<string, number>;
  recall: number;
  ndcg: number;
  fitSeconds: number;
  tuneSeconds?: number;
}

function score(model: ModelParams, data: DataSet) {
  const evaluation = evaluate(model, data.train, data.test, {
    ks: [K],
    protocol: "field",
    unseenTestItems: data.unseen,
  });
  const metrics = evaluation.metrics[String(K)]!;
  return { recall: metrics.recall, ndcg: metrics.ndcg, users: evaluation.users };
}

function describeParams(kind: string, params: Record<string, number>): string {
  const specs = recommenderFor(kind).parameters;
  return Object.entries(params)
    .filter(([name]) => name !== "seed" && name !== "threads")
    .map(([name, value]) => {
      const spec = specs[name];
      const shown = spec?.choices ? spec.choices[value] : Number(value.toPrecision(3));
      return `${name}=${shown}`;
    })
    .join(" ");
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const rows: Row[] = [];
const skipped: string[] = [];
for (const name of values.datasets.split(",")) {
  const data = await load(name);
  log(
    `[${name}] ${data.train.nUsers} users, ${data.train.nItems} items, ${data.train.userItems.indptr[data.train.nUsers]} train positives`,
  );
  for (const kind of kinds) {
    const fitStarted = performance.now();
    const defaults = await fitModel(kind, data.train);
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const measured = score(defaults.model, data);
    rows.push({
      dataset: name,
      kind,
      variant: "defaults",
      params: defaults.params,
      fitSeconds,
      ...measured,
    });
    log(
      `[${name}] ${kind} defaults: REC@${K} ${measured.recall.toFixed(4)} NDCG@${K} ${measured.ndcg.toFixed(4)} (fit ${fitSeconds.toFixed(1)} s, ${measured.users} users)`,
    );
    const tunable = Object.values(recommenderFor(kind).parameters).some((spec) => spec.search);
    if (values["no-tuned"] || !tunable) continue;
    if (fitSeconds > maxTuneFitSeconds) {
      // a search refits the kind ~1.5·trials times: EASE on citeulike-t alone would take an hour
      log(
        `[${name}] ${kind} not tuned: its default fit took ${fitSeconds.toFixed(0)} s > --max-tune-fit-seconds ${maxTuneFitSeconds}`,
      );
      skipped.push(`${kind} on ${name} (default fit ${fitSeconds.toFixed(0)} s)`);
      continue;
    }
    const tuneStarted = performance.now();
    const tuning = await tune(data.trainLog, {
      kinds: [kind],
      trials,
      seed,
      protocol: "field",
      metric: `recall@${K}`,
    });
    const tuneSeconds = (performance.now() - tuneStarted) / 1000;
    const refitStarted = performance.now();
    const tuned = await fitModel(kind, data.train, tuning.best.params);
    const refitSeconds = (performance.now() - refitStarted) / 1000;
    const tunedScore = score(tuned.model, data);
    rows.push({
      dataset: name,
      kind,
      variant: "tuned",
      params: tuned.params,
      fitSeconds: refitSeconds,
      tuneSeconds,
      ...tunedScore,
    });
    log(
      `[${name}] ${kind} tuned (${tuning.trials.length} trials, ${tuneSeconds.toFixed(0)} s): REC@${K} ${tunedScore.recall.toFixed(4)} NDCG@${K} ${tunedScore.ndcg.toFixed(4)} — ${describeParams(kind, tuned.params)}`,
    );
  }
}

const ratio = (value: number, base: number | undefined) =>
  base && base > 0 ? `${(value / base).toFixed(2)}×` : "–";
const lines = [
  `REC@${K} and NDCG@${K}, field protocol; tuned = best of ${trials} candidates per kind (seed ${seed}) on a validation split of train, refitted on train. ×TopPop and ×best-ii: ratio to popularity and to the best default item-item baseline (${ITEM_ITEM_BASELINES.join(", ")}) of the same data set in this run.`,
  "",
  `| data set | model | variant | REC@${K} | NDCG@${K} | REC ×TopPop | REC ×best-ii | NDCG ×TopPop | NDCG ×best-ii | fit s | tune s | parameters |`,
  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
];
for (const name of values.datasets.split(",")) {
  const own = rows.filter((r) => r.dataset === name);
  const top = own.find((r) => r.kind === "popularity" && r.variant === "defaults");
  const baseline = own
    .filter((r) => r.variant === "defaults" && ITEM_ITEM_BASELINES.includes(r.kind))
    .sort((a, b) => b.recall - a.recall)[0];
  for (const r of own) {
    lines.push(
      `| ${name} | ${r.kind} | ${r.variant} | ${r.recall.toFixed(4)} | ${r.ndcg.toFixed(4)} | ${ratio(r.recall, top?.recall)} | ${ratio(r.recall, baseline?.recall)} | ${ratio(r.ndcg, top?.ndcg)} | ${ratio(r.ndcg, baseline?.ndcg)} | ${r.fitSeconds.toFixed(1)} | ${r.tuneSeconds?.toFixed(0) ?? ""} | ${describeParams(r.kind, r.params)} |`,
    );
  }
  if (baseline)
    lines.push(`| ${name} | best item-item baseline: ${baseline.kind} | | | | | | | | | | |`);
}
if (skipped.length > 0)
  lines.push(
    "",
    `Not tuned (default fit longer than --max-tune-fit-seconds ${maxTuneFitSeconds}): ${skipped.join(", ")}.`,
  );
process.stdout.write(`${lines.join("\n")}\n`);
log(
  `total ${((performance.now() - started) / 1000).toFixed(0)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
