/**
 * The worker-thread side of runRetrainJobInThread: runs the job with the options it was started
 * with and posts its progress, then its result or its error, to the parent.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runRetrainJob, type RetrainJobOptions } from "./job.ts";

const port = parentPort!;
const options = workerData as Omit<RetrainJobOptions, "onProgress">;
runRetrainJob({
  ...options,
  onProgress: (phase, fraction) => port.postMessage({ type: "progress", phase, fraction }),
})
  .then(
    (result) => port.postMessage({ type: "done", result }),
    (error: Error) => port.postMessage({ type: "error", name: error.name, message: error.message }),
  )
  .finally(() => process.exit(0));
