/**
 * A second `npm start` to ready, as a fresh clone's second start sees it: one first start prepares
 * a new data directory (demo import, training; the dashboard is built if its build is missing),
 * then `--runs` (5) second starts are timed from the launcher's spawn until the api's /readyz
 * answers 200 AND the dashboard answers — both polled by this process every 25 ms, not taken from
 * the launcher's own banner — each stopped with Ctrl-C (SIGINT) and waited for. Prints every run,
 * the median, and the steps the launcher and the api print with their times. Started and stopped
 * through @reco/testkit's startProduct (embedded defaults, its own process group, Ctrl-C as a
 * terminal sends it: SIGINT to the group), as the e2e journey starts it.
 *
 * Baseline in the same run: the floor any start pays — a bare `node <tsx> empty.ts`, spawned to
 * exit, the same number of times (the launcher, the api and the dashboard each start a node).
 *
 *   npx tsx bench/startup/run.ts [--runs 5] [--keep]
 *
 * Uses the checkout (its node_modules and dashboard build) and free ports; the data directory is
 * a temporary one (--keep leaves it).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { productPorts, startProduct } from "@reco/testkit";
import { median } from "../serve/common.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "5" }, keep: { type: "boolean", default: false } },
});
const runs = Math.max(1, Number(values.runs));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const tsxCli = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");

interface Start {
  seconds: number;
  output: string;
}

/** One `npm start`: spawned, timed until /readyz is 200 and the dashboard answers, then stopped. */
async function start(env: Record<string, string>, apiPort: number, webPort: number) {
  const product = await startProduct({
    cwd: root,
    apiPort,
    webPort,
    dataDir: env.DATA_DIR!,
    env,
    readyTimeoutMs: 900_000,
    pollMs: 25,
  });
  // the banner (and the api's step line) may trail readiness by a few ms
  const bannerBy = performance.now() + 10_000;
  while (!product.output().includes("Press Ctrl-C to stop.") && performance.now() < bannerBy)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const output = product.output(200_000);
  const code = await product.stop();
  if (code !== 0) throw new Error(`npm start stopped with code ${code}:\n${output.slice(-3000)}`);
  return { seconds: product.readySeconds, output } satisfies Start;
}

/** The lines that carry a step and its time: the launcher's and the api's. */
function stepLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) =>
      /^\[start\] .*: \d+\.\d s$|^\[api\] api started in|^\[api\] embedded stream worker started|^\[start\] preparation already done|^\[prepare\] .* in \d/.test(
        line,
      ),
    );
}

async function bareTsx(file: string): Promise<number> {
  const began = performance.now();
  const child = spawn(process.execPath, [tsxCli, file], { cwd: root, stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return (performance.now() - began) / 1000;
}

const dir = await mkdtemp(path.join(os.tmpdir(), "bench-startup-"));
try {
  const { apiPort, webPort } = await productPorts();
  const env = {
    DATA_DIR: path.join(dir, "data"),
    SIMULATE: "0",
  };
  console.log(`first start on a new data directory (${env.DATA_DIR})…`);
  const first = await start(env, apiPort, webPort);
  console.log(`first start: ready in ${first.seconds.toFixed(2)} s; its steps:`);
  for (const line of stepLines(first.output)) console.log(`  ${line}`);

  const empty = path.join(dir, "empty.ts");
  await writeFile(empty, "export {};\n");
  const seconds: number[] = [];
  const floors: number[] = [];
  let last: Start | undefined;
  for (let run = 1; run <= runs; run++) {
    floors.push(await bareTsx(empty));
    last = await start(env, apiPort, webPort);
    seconds.push(last.seconds);
    console.log(
      `second start ${run}/${runs}: ready in ${last.seconds.toFixed(2)} s (bare tsx process ${floors.at(-1)!.toFixed(2)} s)`,
    );
  }
  console.log(`steps of the last second start:`);
  for (const line of stepLines(last!.output)) console.log(`  ${line}`);
  const mid = median(seconds);
  const floor = median(floors);
  console.log(
    `\nsecond start to ready (api /readyz 200 and dashboard answering), ${runs} runs: ` +
      `${seconds.map((s) => s.toFixed(2)).join(", ")} s; median ${mid.toFixed(2)} s ` +
      `(${(mid / floor).toFixed(1)}× a bare tsx process, median ${floor.toFixed(2)} s); ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
  );
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  else console.log(`data directory kept: ${dir}`);
}
