/**
 * onnxruntime-node 1.30 on Linux ships Microsoft's telemetry (1DS): at its first session it writes
 * a device id and an event store under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and uploads
 * events when it can reach the internet. A self-hosted engine sends nothing anywhere:
 * `ORT_DISABLE_TELEMETRY=1` before onnxruntime initialises (its first session) is its full opt-out;
 * an operator's own value is kept. Threads share the process's environment but not `process.env`
 * (a thread's is a copy), so this takes effect on the main thread only: it is called there before
 * any thread starts (typeScriptWorker) and before a session is made on it.
 */
export function disableOnnxRuntimeTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= "1";
}
