/**
 * Serving cost of the exported ONNX graphs (onnxruntime-node) against the TypeScript reference
 * scorer (models/score.ts `recommend`) on the same random parameters, in one run:
 * top-10 with ~50 excluded items per user, batch 1 and batch 32.
 *
 *   npx tsx bench/onnx-serving/run.ts                  # 27k and 100k items, 64 factors, 100 neighbours
 *   npx tsx bench/onnx-serving/run.ts --items 20000 --seconds 1
 */
import { parseArgs } from "node:util";
import {
  type FactorParams,
  type ItemItemParams,
  type ModelParams,
  type RecommendRequest,
  createOnnxScorer,
  exportOnnx,
  recommend,
  seededRandom,
} from "@reco/ml";

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "27000,100000" },
    factors: { type: "string", default: "64" },
    neighbours: { type: "string", default: "100" },
    seconds: { type: "string", default: "2" },
  },
});
const itemCounts = values.items.split(",").map(Number);
const factors = Number(values.factors);
const neighbours = Number(values.neighbours);
const seconds = Number(values.seconds);
const rnd = seededRandom(1);

function factorParams(nItems: number): FactorParams {
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.1);
  return {
    kind: "factors",
    factors,
    nUsers: 1000,
    nItems,
    userFactors: fill(1000 * factors),
    itemFactors: fill(nItems * factors),
    regularization: 0.1,
    alpha: 1,
  };
}

function itemItemParams(nItems: number): ItemItemParams {
  const indptr = new Int32Array(nItems + 1);
  const indices = new Int32Array(nItems * neighbours);
  const weights = new Float32Array(nItems * neighbours);
  for (let i = 0; i < nItems; i++) {
    const row = new Set<number>();
    while (row.size < neighbours) row.add(rnd.int(nItems));
    indices.set(
      [...row].sort((a, b) => a - b),
      i * neighbours,
    );
    for (let n = 0; n < neighbours; n++) weights[i * neighbours + n] = rnd.next();
    indptr[i + 1] = (i + 1) * neighbours;
  }
  return { kind: "item-item", nItems, indptr, indices, weights };
}

/** Calls `step` (which serves `perCall` users) until `seconds` pass; returns users per second. */
async function rate(step: () => Promise<unknown> | unknown, perCall: number): Promise<number> {
  await step(); // warm-up
  let users = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await step();
    users += perCall;
  }
  return users / ((performance.now() - started) / 1000);
}

async function measure(label: string, params: ModelParams): Promise<void> {
  const graph = exportOnnx(params);
  const scorer = await createOnnxScorer({
    kind: params.kind,
    modelBytes: graph.bytes,
    nItems: params.nItems,
    nUsers: 1000,
    factors,
    sessionOptions: { intraOpNumThreads: 1 },
  });
  const history = (u: number) =>
    Array.from({ length: 50 }, (_, h) => (u * 7919 + h * 104729) % params.nItems);
  const request = (u: number): RecommendRequest =>
    params.kind === "factors"
      ? { userIndex: u % 1000, exclude: history(u) }
      : { historyIndices: history(u) };
  const batch = (size: number) => Array.from({ length: size }, (_, i) => request(i));
  const reference = (u: number) => {
    const h = Int32Array.from(history(u));
    return params.kind === "factors"
      ? recommend(params, { userIndex: u % 1000 }, 10, h)
      : recommend(params, { history: { items: h } }, 10);
  };
  let u = 0;
  const ts = await rate(() => reference(u++), 1);
  const one = await rate(() => scorer.recommend([request(u++)], 10), 1);
  const b1 = batch(32);
  const many = await rate(() => scorer.recommend(b1, 10), 32);
  await scorer.release();
  console.log(
    `${label.padEnd(28)} model ${(graph.bytes.byteLength / 2 ** 20).toFixed(1).padStart(6)} MB | TS reference ${ts.toFixed(0).padStart(6)} users/s | ONNX batch 1 ${one.toFixed(0).padStart(6)} users/s (×${(one / ts).toFixed(2)}) | ONNX batch 32 ${many.toFixed(0).padStart(6)} users/s (×${(many / ts).toFixed(2)})`,
  );
}

console.log(
  `ONNX serving vs TypeScript reference, top-10, 50 excluded/history items, ${seconds} s per figure, 1 intra-op thread`,
);
for (const nItems of itemCounts) {
  await measure(`factors ${nItems} × ${factors}`, factorParams(nItems));
  await measure(`item-item ${nItems} × ${neighbours} nbrs`, itemItemParams(nItems));
}
