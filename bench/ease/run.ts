/**
 * EASE^R training time and peak memory by catalogue size: the exact float64 solve (Gram matrix,
 * blocked Schur-complement inverse on onnxruntime Gemm, B and its top-k) on synthetic data with
 * Zipf item popularity. Every measurement runs in a child process of its own, so its peak RSS
 * (getrusage maxRSS) is that case's alone.
 *
 * Baseline in the same run, at --baseline-items: the same solve with one onnxruntime thread, and
 * the unblocked com.microsoft Inverse kernel (Eigen) on the whole matrix; the ratios say what the
 * blocked Gemm path and the second core buy.
 *
 *   npx tsx bench/ease/run.ts                                  # 10k and 20k items, baseline 4000
 *   npx tsx bench/ease/run.ts --items 2000,5000 --baseline-items 2000
 */
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { easeSolve, easeWeights, interactionsFromCsr } from "@reco/ml";
import { syntheticInteractions } from "../ials/synthetic.ts";

const { values } = parseArgs({
  options: {
    items: { type: "string", default: "10000,20000" },
    "baseline-items": { type: "string", default: "4000" },
    child: { type: "boolean", default: false },
    threads: { type: "string", default: "2" },
    base: { type: "string", default: "1024" },
    neighbours: { type: "string", default: "500" },
  },
});

interface Result {
  items: number;
  solved: number;
  threads: number;
  base: number;
  solveSeconds: number;
  weightsSeconds: number;
  totalSeconds: number;
  peakRssMb: number;
  nnz: number;
}

async function child(): Promise<void> {
  const items = Number(values.items);
  const threads = Number(values.threads);
  const base = Number(values.base);
  // ~60 interactions per item over 30k users, Zipf(0.8) popularity
  const userItems = syntheticInteractions({
    users: 30_000,
    items,
    interactions: 60 * items,
    itemSkew: 0.8,
    minPerUser: 5,
  });
  const train = interactionsFromCsr(userItems);
  const started = performance.now();
  const solution = await easeSolve(train, { lambda: 250, maxItems: 30_000, threads, base });
  const solved = performance.now();
  const model = easeWeights(solution, train.nItems, Number(values.neighbours));
  const done = performance.now();
  const result: Result = {
    items,
    solved: solution.items.length,
    threads,
    base,
    solveSeconds: (solved - started) / 1000,
    weightsSeconds: (done - solved) / 1000,
    totalSeconds: (done - started) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    nnz: model.indptr[model.nItems]!,
  };
  console.log(JSON.stringify(result));
}

function run(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--child", ...args],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${args.join(" ")}: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as Result);
      },
    );
  });
}

async function main(): Promise<void> {
  const sizes = values.items.split(",").map(Number);
  const baseline = Number(values["baseline-items"]);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const rows: { label: string; r: Result }[] = [];
  const measure = async (label: string, args: string[]) => {
    const r = await run(args);
    rows.push({ label, r });
    console.log(
      `${label}: ${r.solved} items solved, ${r.totalSeconds.toFixed(1)} s (solve ${r.solveSeconds.toFixed(1)} s, B top-k ${r.weightsSeconds.toFixed(1)} s), peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    );
    return r;
  };
  if (baseline > 0) {
    const b = String(baseline);
    const blocked = await measure(`${b} items, blocked, 2 threads`, ["--items", b]);
    const one = await measure(`${b} items, blocked, 1 thread`, ["--items", b, "--threads", "1"]);
    const direct = await measure(`${b} items, unblocked Inverse, 2 threads`, [
      "--items",
      b,
      "--base",
      String(baseline + 1),
    ]);
    console.log(
      `baseline ratios at ${b} items (solve seconds): 1 thread / 2 threads ${(one.solveSeconds / blocked.solveSeconds).toFixed(2)}×, unblocked / blocked ${(direct.solveSeconds / blocked.solveSeconds).toFixed(2)}×`,
    );
  }
  for (const size of sizes)
    await measure(`${size} items, blocked, 2 threads`, ["--items", String(size)]);
  console.log("\n| case | items solved | total s | solve s | B top-k s | peak RSS MB |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const { label, r } of rows)
    console.log(
      `| ${label} | ${r.solved} | ${r.totalSeconds.toFixed(1)} | ${r.solveSeconds.toFixed(1)} | ${r.weightsSeconds.toFixed(1)} | ${r.peakRssMb.toFixed(0)} |`,
    );
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}

if (values.child) await child();
else await main();
