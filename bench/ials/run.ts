/**
 * iALS training speed: seconds per epoch at 64 factors on a MovieLens-20M-shaped synthetic set,
 * one worker thread vs two in the same run, plus peak memory.
 *
 *   npx tsx bench/ials/run.ts               # full size (138k users, 27k items, 20M interactions)
 *   npx tsx bench/ials/run.ts --scale 0.05  # quick run
 *   options: --epochs 3 (per run) --rounds 2 (runs per thread count, interleaved) --threads 1,2
 *   npx tsx bench/ials/run.ts --against implicit --threads 2
 *     also times `implicit`'s CPU iALS (conjugate gradient, same factors, λ, alpha, CG steps,
 *     --implicit-threads 2) on the same matrix, interleaved round by round, and prints the ratio.
 *     Needs python3 with implicit (dev-only: `pip install implicit threadpoolctl`); without it
 *     the bench says so and prints ours only.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
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
    against: { type: "string" },
    "implicit-threads": { type: "string", default: "2" },
  },
});
if (values.against !== undefined && values.against !== "implicit") {
  throw new Error(`--against: only "implicit" is supported, got "${values.against}"`);
}
const implicitThreads = Number(values["implicit-threads"]);
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

interface ImplicitRun {
  version: string;
  seconds: number[];
  cpuSeconds: number[];
}

/** Writes the matrix for implicit_epoch.py, or returns why implicit cannot run. */
function prepareImplicit(): { dir: string } | { missing: string } {
  const probe = spawnSync("python3", ["-c", "import implicit, threadpoolctl, scipy"], {
    encoding: "utf8",
  });
  if (probe.error) return { missing: `python3 not runnable (${probe.error.message})` };
  if (probe.status !== 0) {
    const lastLine = probe.stderr.trim().split("\n").pop() ?? "";
    return { missing: `python3 cannot import implicit/threadpoolctl/scipy (${lastLine})` };
  }
  const dir = mkdtempSync(join(tmpdir(), "ials-bench-"));
  const bytes = (array: Int32Array | Float32Array) =>
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  writeFileSync(join(dir, "indptr.i32"), bytes(userItems.indptr));
  writeFileSync(join(dir, "indices.i32"), bytes(userItems.indices.subarray(0, nnz)));
  writeFileSync(join(dir, "values.f32"), bytes(userItems.values.subarray(0, nnz)));
  writeFileSync(
    join(dir, "meta.json"),
    JSON.stringify({ rows: shape.users, cols: shape.items, nnz }),
  );
  return { dir };
}

function timeImplicit(dir: string): ImplicitRun {
  const params = resolveParameters(recommenderFor("ials"), { factors: Number(values.factors) });
  const script = new URL("./implicit_epoch.py", import.meta.url).pathname;
  const result = spawnSync(
    "python3",
    [
      script,
      dir,
      `--factors=${params.factors}`,
      `--iterations=${epochs}`,
      `--threads=${implicitThreads}`,
      `--regularization=${params.regularization}`,
      `--alpha=${params.alpha}`,
      `--cg-steps=${params.cgSteps}`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (result.status !== 0) {
    throw new Error(`implicit_epoch.py failed (status ${result.status}): ${result.stderr.trim()}`);
  }
  const run = JSON.parse(result.stdout.trim().split("\n").pop()!) as ImplicitRun;
  console.log(
    `round: implicit ${run.version}, threads ${implicitThreads}: iterations ` +
      `${run.seconds.map((s) => s.toFixed(2)).join(", ")} s; cpu ` +
      `${run.cpuSeconds.reduce((sum, s) => sum + s, 0).toFixed(1)} s; load ${loadavg()[0]!.toFixed(1)}`,
  );
  return run;
}

const implicitSetup = values.against === "implicit" ? prepareImplicit() : undefined;
if (implicitSetup && "missing" in implicitSetup) {
  console.log(`implicit: not run, ${implicitSetup.missing}; printing ours only`);
}
const implicitDir = implicitSetup && "dir" in implicitSetup ? implicitSetup.dir : undefined;

// Thread counts (and implicit) alternate round by round so a change in machine load hits all alike.
const runs: Run[] = [];
const implicitRuns: ImplicitRun[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const threads of threadCounts) runs.push(await timeRun(threads));
    if (implicitDir) implicitRuns.push(timeImplicit(implicitDir));
  }
} finally {
  if (implicitDir) rmSync(implicitDir, { recursive: true, force: true });
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
if (implicitRuns.length > 0) {
  const steadyOf = (samples: number[]) => (samples.length > 1 ? samples.slice(1) : samples);
  const theirs = mean(implicitRuns.flatMap((run) => steadyOf(run.seconds)));
  const theirCpu = mean(implicitRuns.flatMap((run) => steadyOf(run.cpuSeconds)));
  const ours = summary.find((row) => row.threads === implicitThreads) ?? summary.at(-1)!;
  console.log(
    `\n| solver (same run) | threads | s/epoch (steady) | CPU s per epoch |\n|---|---:|---:|---:|\n` +
      `| reco iALS | ${ours.threads} | ${ours.steady.toFixed(2)} | ${ours.cpuPerEpoch.toFixed(2)} |\n` +
      `| implicit ${implicitRuns[0]!.version} | ${implicitThreads} | ${theirs.toFixed(2)} | ${theirCpu.toFixed(2)} |`,
  );
  console.log(
    `ours / implicit: ${(ours.steady / theirs).toFixed(2)}× the time per epoch ` +
      `(goal ≤ 2×; CPU ${(ours.cpuPerEpoch / theirCpu).toFixed(2)}×)`,
  );
}
console.log(`process maxRSS (resourceUsage): ${mb(process.resourceUsage().maxRSS * 1024)}`);
