/** Entry of the validation worker thread (started by ValidationPool). */
import { parentPort } from "node:worker_threads";
import { validatePacked, type ValidationRequest } from "./validation.ts";

if (!parentPort) throw new Error("validation-entry.ts must run as a worker thread");
const port = parentPort;
port.on("message", (request: ValidationRequest) => {
  const reply = validatePacked(request);
  port.postMessage(reply, [reply.valid.buffer as ArrayBuffer]);
});
