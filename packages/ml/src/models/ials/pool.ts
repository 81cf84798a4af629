import type { Worker } from "node:worker_threads";
import { typeScriptWorker } from "@reco/contracts";
import { instantiateKernel, type Kernel } from "./cg-wasm.ts";
import { GRAM_BLOCKS, runTask, type SharedState, type Side, type Task } from "./tasks.ts";

/** Runs iALS tasks on `threads` worker threads (0 = on the calling thread). */
export class SolverPool {
  private constructor(
    private readonly state: SharedState,
    private readonly workers: Worker[],
    private readonly kernel: Kernel | undefined,
  ) {}

  /** `state.scratch` needs a slot per worker plus one (slot 0 is the calling thread's). */
  static create(state: SharedState, threads: number): SolverPool {
    const workers = Array.from({ length: threads }, (_, n) =>
      typeScriptWorker(new URL("./worker.ts", import.meta.url), {
        workerData: { state, slot: n + 1 },
      }),
    );
    return new SolverPool(
      state,
      workers,
      threads === 0 ? instantiateKernel(state.memory) : undefined,
    );
  }

  private async run(task: Task): Promise<number> {
    Atomics.store(this.state.cursor, 0, 0);
    if (this.kernel) return runTask(this.state, task, this.kernel, 0);
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
    this.state.gram32.set(gram);
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
