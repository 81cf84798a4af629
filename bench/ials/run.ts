/**
 * iALS training speed: seconds per epoch at 64 factors on a MovieLens-20M-shaped synthetic set,
 * one worker thread vs two in the same run, plus peak memory.
 *
 *   npx tsx bench/ials/run.ts               # full size (138k users, 27k items, 20M interactions)
 *   npx tsx bench/ials/run.ts --scale 0.05  # quick run
 */
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  type Csr,
  interactionsFromCsr,
  recommenderFor,
  resolveParameters,
  trainIals,
} from "@reco/ml";
import { MOVIELENS_20M, scaled, syntheticInteractions } from "./synthetic.ts";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    factors: { type: "string", default: "64" },
    epochs: { type: "string", default: "3" },
    threads: { type: "string", default: "1,2" },
  },
});
const scale = Number(values.scale);
const epochs = Number(values.epochs);
const threadCounts = values.threads.split(",").map(Number);
if (!(scale > 0) || !(epochs >= 1) || threadCounts.some((n) => !(n >= 0))) {
  throw new Error("usage: --scale <0..1] --epochs N --threads 1,2 --factors K");
}
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

function sharedCopy(matrix: Csr): Csr {
  const copy = <T extends Int32Array | Float32Array>(array: T): T => {
    const out = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(
      new SharedArrayBuffer(Math.max(4, array.byteLength)),
    );
    out.set(array as never);
    return out;
  };
  return {
    ...matrix,
    indptr: copy(matrix.indptr),
    indices: copy(matrix.indices),
    values: copy(matrix.values),
  };
}

const shape = scaled(MOVIELENS_20M, scale);
const started = performance.now();
const userItems = syntheticInteractions(shape);
const built = interactionsFromCsr(userItems);
const train = { ...built, itemUsers: sharedCopy(built.itemUsers) };
const nnz = userItems.indptr[shape.users]!;
console.log(
  `machine: ${availableParallelism()} cores, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" ")} (the ratio is only meaningful when two cores are free)`,
);
console.log(
  `data: ${shape.users} users × ${shape.items} items, ${nnz} interactions (scale ${scale}), ` +
    `generated in ${((performance.now() - started) / 1000).toFixed(1)} s, rss ${mb(process.memoryUsage().rss)}`,
);

interface Run {
  threads: number;
  epochSeconds: number[];
  cpuSeconds: number;
  peakRss: number;
}
const runs: Run[] = [];
for (const threads of threadCounts) {
  const params = resolveParameters(recommenderFor("ials"), {
    factors: Number(values.factors),
    epochs,
    threads,
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const epochSeconds: number[] = [];
  let last = 0;
  const cpuBefore = process.cpuUsage();
  await trainIals(train, params, {
    onProgress: ({ elapsedMs }) => {
      epochSeconds.push((elapsedMs - last) / 1000);
      last = elapsedMs;
    },
  });
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  runs.push({ threads, epochSeconds, cpuSeconds, peakRss });
  console.log(
    `threads ${threads}: epochs ${epochSeconds.map((s) => s.toFixed(2)).join(", ")} s; ` +
      `cpu ${cpuSeconds.toFixed(1)} s; peak rss ${mb(peakRss)}`,
  );
}

// The first epoch also pays for worker start-up; steady state is the mean of the others.
const steady = (run: Run) => {
  const rest = run.epochSeconds.length > 1 ? run.epochSeconds.slice(1) : run.epochSeconds;
  return rest.reduce((sum, s) => sum + s, 0) / rest.length;
};
console.log(
  "\n| worker threads | s/epoch (steady) | first epoch s | CPU s (all epochs) | peak RSS |",
);
console.log("|---:|---:|---:|---:|---:|");
for (const run of runs) {
  console.log(
    `| ${run.threads} | ${steady(run).toFixed(2)} | ${run.epochSeconds[0]!.toFixed(2)} | ` +
      `${run.cpuSeconds.toFixed(1)} | ${mb(run.peakRss)} |`,
  );
}
const baseline = runs[0]!;
for (const run of runs.slice(1)) {
  console.log(
    `speed-up ${run.threads} vs ${baseline.threads} thread(s): ${(steady(baseline) / steady(run)).toFixed(2)}×`,
  );
}
console.log(`process maxRSS (resourceUsage): ${mb(process.resourceUsage().maxRSS * 1024)}`);
