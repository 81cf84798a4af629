/**
 * iALS training speed: seconds per epoch at 64 factors on a MovieLens-20M-shaped synthetic set,
 * one worker thread vs two in the same run, plus peak memory.
 *
 *   npx tsx bench/ials/run.ts               # full size (138k users, 27k items, 20M interactions)
 *   npx tsx bench/ials/run.ts --scale 0.05  # quick run
 *   options: --epochs 3 (per run) --rounds 2 (runs per thread count, interleaved) --threads 1,2
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
    rounds: { type: "string", default: "2" },
    threads: { type: "string", default: "1,2" },
  },
});
const scale = Number(values.scale);
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
const threadCounts = values.threads.split(",").map(Number);
if (!(scale > 0) || !(epochs >= 1) || !(rounds >= 1) || threadCounts.some((n) => !(n >= 0))) {
  throw new Error("usage: --scale <0..1] --epochs N --rounds R --threads 1,2 --factors K");
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

async function timeRun(threads: number): Promise<Run> {
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
  console.log(
    `round: threads ${threads}: epochs ${epochSeconds.map((s) => s.toFixed(2)).join(", ")} s; ` +
      `cpu ${cpuSeconds.toFixed(1)} s; peak rss ${mb(peakRss)}; load ${loadavg()[0]!.toFixed(1)}`,
  );
  return { threads, epochSeconds, cpuSeconds, peakRss };
}

// Thread counts alternate round by round so a change in machine load hits both alike.
const runs: Run[] = [];
for (let round = 0; round < rounds; round++) {
  for (const threads of threadCounts) runs.push(await timeRun(threads));
}

// The first epoch of a run also pays for worker start-up; steady state is the mean of the others.
const steadyEpochs = (run: Run) =>
  run.epochSeconds.length > 1 ? run.epochSeconds.slice(1) : run.epochSeconds;
const mean = (samples: number[]) => samples.reduce((sum, s) => sum + s, 0) / samples.length;
const summary = threadCounts.map((threads) => {
  const mine = runs.filter((run) => run.threads === threads);
  return {
    threads,
    steady: mean(mine.flatMap(steadyEpochs)),
    first: mean(mine.map((run) => run.epochSeconds[0]!)),
    cpuPerEpoch: mean(mine.map((run) => run.cpuSeconds / run.epochSeconds.length)),
    peakRss: Math.max(...mine.map((run) => run.peakRss)),
  };
});
console.log("\n| worker threads | s/epoch (steady) | first epoch s | CPU s per epoch | peak RSS |");
console.log("|---:|---:|---:|---:|---:|");
for (const row of summary) {
  console.log(
    `| ${row.threads} | ${row.steady.toFixed(2)} | ${row.first.toFixed(2)} | ` +
      `${row.cpuPerEpoch.toFixed(2)} | ${mb(row.peakRss)} |`,
  );
}
const baseline = summary[0]!;
for (const row of summary.slice(1)) {
  console.log(
    `speed-up ${row.threads} vs ${baseline.threads} thread(s): ${(baseline.steady / row.steady).toFixed(2)}×`,
  );
}
console.log(`process maxRSS (resourceUsage): ${mb(process.resourceUsage().maxRSS * 1024)}`);
