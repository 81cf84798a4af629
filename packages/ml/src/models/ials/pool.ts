import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { GRAM_BLOCKS, runTask, type SharedState, type Side, type Task } from "./tasks.ts";

/**
 * Workers are TypeScript too. On Node 20, tsx's `--import` hooks are not installed in worker
 * threads (execArgv alone fails with ERR_UNKNOWN_FILE_EXTENSION), so a tiny bootstrap registers
 * tsx's ESM API inside the worker and then imports worker.ts.
 */
function workerBootstrap(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (
    require(manifest) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  const api = pathToFileURL(
    path.join(path.dirname(manifest), exports["./esm/api"]!.import.default),
  ).href;
  const entry = new URL("./worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

/** Runs iALS tasks on `threads` worker threads (0 = on the calling thread). */
export class SolverPool {
  private constructor(
    private readonly state: SharedState,
    private readonly workers: Worker[],
  ) {}

  static create(state: SharedState, threads: number): SolverPool {
    const workers = Array.from(
      { length: threads },
      () => new Worker(workerBootstrap(), { eval: true, workerData: state }),
    );
    return new SolverPool(state, workers);
  }

  private async run(task: Task): Promise<number> {
    Atomics.store(this.state.cursor, 0, 0);
    if (this.workers.length === 0) return runTask(this.state, task);
    const results = await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<number>((resolve, reject) => {
            const onMessage = (message: { nonFinite: number }) => {
              cleanup();
              resolve(message.nonFinite);
            };
            const onError = (error: Error) => {
              cleanup();
              reject(error);
            };
            const onExit = (code: number) => {
              cleanup();
              reject(new Error(`iALS worker exited with code ${code}`));
            };
            const cleanup = () => {
              worker.off("message", onMessage);
              worker.off("error", onError);
              worker.off("exit", onExit);
            };
            worker.on("message", onMessage);
            worker.on("error", onError);
            worker.on("exit", onExit);
            worker.postMessage(task);
          }),
      ),
    );
    return results.reduce((sum, value) => sum + value, 0);
  }

  /** Assembles the fixed side's Gram matrix into state.gram. */
  async gram(side: Side): Promise<void> {
    await this.run({ op: "gram", side });
    const { k, gram, gramParts } = this.state;
    gram.fill(0);
    for (let block = 0; block < GRAM_BLOCKS; block++) {
      const offset = block * k * k;
      for (let a = 0; a < k; a++)
        for (let b = a; b < k; b++) gram[a * k + b]! += gramParts[offset + a * k + b]!;
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) gram[a * k + b] = gram[b * k + a]!;
  }

  /** Solves every row of `side`; returns how many came out non-finite. */
  solve(
    side: Side,
    options: { regularization: number; alpha: number; cgSteps: number },
  ): Promise<number> {
    return this.run({ op: "solve", side, ...options });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
