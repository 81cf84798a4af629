/**
 * Does `train --tune` pick a model a user can trust? On each data set, the tuner with its default
 * budget (successive halving over DEFAULT_TRIALS candidates per kind, every kind, the winner fitted
 * on all the train data) against the baseline in the same run: every kind tuned on its own with 5×
 * the candidates (other seeded draws, the same successive halving — a plain full-budget search of
 * 45 iALS candidates takes hours on citeulike-t's 26k items on this machine), fitted the same way,
 * the best of them on the test side being the reference (so the baseline also knows which kind
 * wins on test, which the tuner does not). Kinds the tuner's `all` leaves out on a large catalogue
 * (EASE^R above 5,000 items) are left out of both, and listed. Both search only a validation split
 * carved from the train side; the test side is read once per fitted model, for the table.
 *
 * Printed per data set: each kind's REC@20 on the held-out test with its defaults and hand-tuned
 * (with the ratio, untuned / tuned), then the tuner's pick, its REC@20 and its ratio to the best
 * hand-tuned kind (done when ≥ 0.97), with the seconds each search took and the process's peak RSS.
 *
 *   npx tsx bench/tuning/run.ts                              # demo, citeulike-t, filmtrust
 *   npx tsx bench/tuning/run.ts --datasets citeulike --factor 5 --trials 27
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  DEFAULT_TRIALS,
  DEMO_RATINGS,
  type InteractionLog,
  type Interactions,
  type ModelParams,
  type Trial,
  buildInteractions,
  describeTrial,
  evaluate,
  loadDelimited,
  loadExplicitSplit,
  randomHoldout,
  recommenderFor,
  recommenders,
  resolveParameters,
  tune,
  tuneAndTrain,
} from "@reco/ml";

const { values } = parseArgs({
  options: {
    datasets: { type: "string", default: "demo,citeulike,filmtrust" },
    kinds: { type: "string", default: "all" },
    trials: { type: "string", default: String(DEFAULT_TRIALS) },
    factor: { type: "string", default: "5" },
    seed: { type: "string", default: "42" },
    shared: { type: "string", default: "../shared/datasets" },
  },
});
const trials = Number(values.trials);
const factor = Number(values.factor);
const seed = Number(values.seed);

interface Dataset {
  name: string;
  train: InteractionLog;
  test: InteractionLog;
  /** test events of train users whose item never occurs in train (misses, field protocol) */
  unseen?: InteractionLog;
}

async function load(name: string): Promise<Dataset> {
  if (name === "demo") {
    const { log } = await loadDelimited(DEMO_RATINGS);
    // the CLI's default split: per user, a seeded 20 %
    return { name: "demo (ml-latest-small)", ...randomHoldout(log, { testFraction: 0.2, seed }) };
  }
  if (name === "citeulike") {
    const dir = `${values.shared}/citeulike-t`;
    const split = await loadExplicitSplit(`${dir}/train.csv`, `${dir}/test.csv`);
    return {
      name: "citeulike-t",
      train: split.train,
      test: split.test,
      unseen: split.unseenTestItems,
    };
  }
  if (name === "filmtrust") {
    const { log } = await loadDelimited(`${values.shared}/filmtrust/ratings.csv`);
    return { name: "filmtrust", ...randomHoldout(log, { testFraction: 0.2, seed }) };
  }
  throw new Error(`unknown data set ${name} (demo, citeulike, filmtrust)`);
}

/** REC@20 on the test side, field protocol (unrankable test items count as misses). */
function testRecall(model: ModelParams, train: Interactions, data: Dataset): number {
  let unseen: Int32Array | undefined;
  if (data.unseen && data.unseen.length > 0) {
    const { indptr } = buildInteractions(data.unseen).userItems;
    unseen = new Int32Array(train.nUsers);
    for (let u = 0; u < train.nUsers; u++) unseen[u] = indptr[u + 1]! - indptr[u]!;
  }
  const evaluation = evaluate(model, train, buildInteractions(data.test), {
    ks: [20],
    protocol: "field",
    unseenTestItems: unseen,
  });
  return evaluation.metrics["20"]!.recall;
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

const kindsOf = (text: string) =>
  text === "all" ? Object.keys(recommenders) : text.split(",").map((kind) => kind.trim());

interface Row {
  kind: string;
  defaults: number;
  tuned: number;
  validation: number;
  seconds: number;
  params: Record<string, number>;
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const kinds = kindsOf(values.kinds);
  log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  for (const name of values.datasets.split(",")) {
    const data = await load(name.trim());
    const train = buildInteractions(data.train);
    log(
      `${data.name}: ${train.nUsers} users, ${train.nItems} items, ${data.train.length} train / ${data.test.length + (data.unseen?.length ?? 0)} test events`,
    );

    // The tuner as `train --tune --model all` runs it.
    const started = performance.now();
    const progress = (trial: Trial, { done, total }: { done: number; total: number }) =>
      log(`    ${describeTrial(trial, done, total)}`);
    // "all" as train --tune passes it, so large catalogues leave out what it leaves out
    const auto = await tuneAndTrain(data.train, {
      kinds: values.kinds === "all" ? "all" : kinds,
      trials,
      seed,
      onTrial: progress,
    });
    const autoSeconds = (performance.now() - started) / 1000;
    const autoRecall = testRecall(auto.model, auto.interactions, data);
    log(
      `  tuner: ${auto.kind} ${JSON.stringify(auto.params)} test REC@20 ${autoRecall.toFixed(4)} (${autoSeconds.toFixed(1)} s)`,
    );

    // Baseline: each kind by plain random search, factor× the candidates, all at full budget.
    const rows: Row[] = [];
    const leftOut = new Set(auto.tuning.leftOut.map((entry) => entry.kind));
    // cheapest first (by the tuner's seconds per kind), so a cut-short run has the most rows
    const cost = new Map(auto.tuning.kinds.map((k) => [k.kind, k.seconds]));
    const order = kinds
      .filter((k) => !leftOut.has(k))
      .sort((a, b) => (cost.get(a) ?? 0) - (cost.get(b) ?? 0));
    for (const kind of order) {
      const recommender = recommenderFor(kind);
      const defaultsParams = resolveParameters(
        recommender,
        "seed" in recommender.parameters ? { seed } : {},
      );
      const defaults = testRecall(await recommender.fit(train, defaultsParams), train, data);
      const kindStarted = performance.now();
      const hand = await tune(data.train, {
        kinds: kind,
        trials: trials * factor,
        seed: seed + 1000, // other candidates than the tuner's
        onTrial: progress,
      });
      const seconds = (performance.now() - kindStarted) / 1000;
      const tuned = testRecall(await recommender.fit(train, hand.best.params), train, data);
      rows.push({
        kind,
        defaults,
        tuned,
        validation: hand.best.score,
        seconds,
        params: hand.best.params,
      });
      log(
        `  alone: ${kind} ${hand.trials.length} trials in ${seconds.toFixed(1)} s, defaults ${defaults.toFixed(4)}, tuned ${tuned.toFixed(4)} ${JSON.stringify(hand.best.params)}`,
      );
    }
    const best = rows.reduce((a, b) => (b.tuned > a.tuned ? b : a));
    const ratio = autoRecall / best.tuned;
    const lines = [
      `### ${data.name}`,
      "",
      `| kind | REC@20 defaults | REC@20 tuned alone (${trials * factor} candidates) | defaults / tuned | search seconds |`,
      "|---|---:|---:|---:|---:|",
      ...rows.map(
        (row) =>
          `| ${row.kind} | ${row.defaults.toFixed(4)} | ${row.tuned.toFixed(4)} | ${row.tuned > 0 ? (row.defaults / row.tuned).toFixed(2) : "–"} | ${row.seconds.toFixed(0)} |`,
      ),
      "",
      `\`train --tune\` (${trials} candidates per kind): **${auto.kind}**, REC@20 ${autoRecall.toFixed(4)} in ${autoSeconds.toFixed(0)} s (tuning and final fit); best kind tuned alone: ${best.kind} ${best.tuned.toFixed(4)}; ratio **${ratio.toFixed(3)}** (${ratio >= 0.97 ? "within" : "NOT within"} 3 %)`,
      `tuner's parameters: ${JSON.stringify(auto.params)}`,
      ...auto.tuning.leftOut.map((entry) => `left out of both: ${entry.kind} (${entry.reason})`),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  log(
    `peak RSS ${peakRssMb()} MB; load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

main().catch((error: Error) => {
  process.stderr.write(`bench/tuning failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
