/** Entry of the validation worker thread (started by ValidationPool). */
import { parentPort } from "node:worker_threads";
import { validatePacked, type ValidationRequest } from "./validation.ts";

if (!parentPort) throw new Error("validation-entry.ts must run as a worker thread");
const port = parentPort;
port.on("message", (request: ValidationRequest) => {
  const reply = validatePacked(request);
  const transfer = [reply.valid.buffer as ArrayBuffer];
  const { features } = reply;
  if (features)
    for (const array of [
      features.ends,
      features.texts,
      features.textEnds,
      features.positions,
      features.itemOf,
      features.itemCounts,
    ])
      transfer.push(array.buffer as ArrayBuffer);
  port.postMessage(reply, transfer);
});
