/**
 * Candidate defaults of a model kind on validation splits carved from each data set's train side
 * (per-user 20 %, seed 43; the test sides of bench/quality/run.ts are never looked at): prints
 * REC@20 and NDCG@20, field protocol, per data set and candidate. How the item-kNN, RP3beta and
 * P3alpha defaults were chosen (packages/ml/README.md).
 *
 *   npx tsx bench/quality/defaults.ts '[["item-knn",{}],["item-knn",{"alpha":0.7,"neighbours":150}]]'
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type InteractionLog,
  buildInteractions,
  evaluate,
  fitModel,
  loadDelimited,
  loadExplicitSplit,
  randomHoldout,
} from "@reco/ml";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shared = path.resolve(repo, "../shared/datasets");

/** The train side, as bench/quality/run.ts builds it. */
async function trainSide(name: string): Promise<InteractionLog> {
  if (name === "citeulike") {
    const dir = path.join(shared, "citeulike-t");
    return (await loadExplicitSplit(path.join(dir, "train.csv"), path.join(dir, "test.csv"))).train;
  }
  const file =
    name === "demo"
      ? path.join(repo, "data/ml-latest-small/ratings.csv")
      : path.join(shared, "filmtrust/ratings.csv");
  return randomHoldout((await loadDelimited(file)).log, { testFraction: 0.2, seed: 42 }).train;
}

const candidates = JSON.parse(process.argv[2] ?? "[]") as [string, Record<string, unknown>][];
if (candidates.length === 0) throw new Error("give the candidates as JSON: [[kind, params], …]");
for (const name of ["demo", "citeulike", "filmtrust"]) {
  const split = randomHoldout(await trainSide(name), { testFraction: 0.2, seed: 43 });
  const fit = buildInteractions(split.train);
  const validation = buildInteractions(split.test);
  for (const [kind, params] of candidates) {
    const { model } = await fitModel(kind, fit, params);
    const at20 = evaluate(model, fit, validation, { ks: [20], protocol: "field" }).metrics["20"]!;
    process.stdout.write(
      `${name}\t${kind}\t${JSON.stringify(params)}\t${at20.recall.toFixed(4)}\t${at20.ndcg.toFixed(4)}\n`,
    );
  }
}
