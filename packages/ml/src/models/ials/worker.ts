import { parentPort, workerData } from "node:worker_threads";
import { runTask, type SharedState, type Task } from "./tasks.ts";

// One solver thread: runs tasks on the shared factors until terminated.
const state = workerData as SharedState;
parentPort!.on("message", (task: Task) => {
  parentPort!.postMessage({ nonFinite: runTask(state, task) });
});
