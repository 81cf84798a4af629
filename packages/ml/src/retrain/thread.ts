/**
 * runRetrainJob in a worker thread, so the process hosting the scheduler (the api in embedded
 * mode) keeps serving while snapshots load, models fit, the evaluation ranks every user and the
 * ONNX export runs. Progress crosses as messages; the result is plain data.
 */
import { typeScriptWorker } from "@reco/contracts";
import type { RetrainJobOptions, RetrainJobResult, RetrainPhase } from "./job.ts";

type Message =
  | { type: "progress"; phase: RetrainPhase; fraction: number }
  | { type: "done"; result: RetrainJobResult }
  | { type: "error"; name: string; message: string };

export function runRetrainJobInThread(options: RetrainJobOptions): Promise<RetrainJobResult> {
  const { onProgress, ...data } = options;
  const worker = typeScriptWorker(new URL("./job-thread.ts", import.meta.url), {
    workerData: data,
  });
  return new Promise<RetrainJobResult>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      action();
      // The thread ends itself after its answer; terminate() only one that does not.
      setTimeout(() => void worker.terminate(), 10_000).unref();
    };
    worker.on("message", (message: Message) => {
      if (message.type === "progress") onProgress?.(message.phase, message.fraction);
      else if (message.type === "done") settle(() => resolve(message.result));
      else settle(() => reject(Object.assign(new Error(message.message), { name: message.name })));
    });
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) =>
      settle(() => reject(new Error(`the retraining thread exited with code ${code}`))),
    );
  });
}
