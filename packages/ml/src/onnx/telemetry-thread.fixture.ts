// A thread that makes one onnxruntime session with onnxruntime-node directly (telemetry.test.ts).
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";

await (await ort.InferenceSession.create(workerData as string)).release();
parentPort!.postMessage("released");
