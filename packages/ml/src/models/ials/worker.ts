import { parentPort, workerData } from "node:worker_threads";
import { instantiateKernel } from "./cg-wasm.ts";
import { runTask, type SharedState, type Task } from "./tasks.ts";

// One solver thread: runs tasks on the shared factors until terminated.
const { state, slot } = workerData as { state: SharedState; slot: number };
const kernel = instantiateKernel(state.memory);
parentPort!.on("message", (task: Task) => {
  parentPort!.postMessage({ nonFinite: runTask(state, task, kernel, slot) });
});
