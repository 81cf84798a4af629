// Makes one onnxruntime session from the artifact at argv[3], the way argv[2] names, in a process
// the test starts with a scratch HOME:
//   plain  — onnxruntime-node directly, as any program would (what onnxruntime does on its own)
//   scorer — createScorer (@reco/ml), on this thread, as the training CLI and tests do
//   thread — onnxruntime-node directly, on a thread started by typeScriptWorker, as the api's
//            inference thread is
import path from "node:path";
import { once } from "node:events";
import { typeScriptWorker } from "@reco/contracts";
import * as ort from "onnxruntime-node";
import { createScorer } from "../index.ts";

const [mode, artifactDir] = process.argv.slice(2);
if (!artifactDir)
  throw new Error("usage: telemetry-child.fixture.ts plain|scorer|thread <artifact dir>");
const modelFile = path.join(artifactDir, "model.onnx");
if (mode === "plain") {
  await (await ort.InferenceSession.create(modelFile)).release();
} else if (mode === "scorer") {
  await (await createScorer(artifactDir)).release();
} else if (mode === "thread") {
  const worker = typeScriptWorker(new URL("./telemetry-thread.fixture.ts", import.meta.url), {
    workerData: modelFile,
  });
  const [answer] = (await once(worker, "message")) as [string];
  await worker.terminate();
  if (answer !== "released") throw new Error(`thread answered ${answer}`);
} else throw new Error(`unknown mode ${mode}`);
process.stdout.write("session made\n");
