/**
 * A process whose only work left is to close a thread gracefully: it must print "closed" and exit
 * 0, not end with the close still awaited (exit 13) because nothing held the loop open.
 */
import { Worker } from "node:worker_threads";
import { ThreadCalls } from "./worker-thread.ts";

const worker = new Worker(
  `const { parentPort } = require("node:worker_threads");
   parentPort.on("message", (m) => {
     if (m.type === "stop") setTimeout(() => process.exit(0), 200);
     else parentPort.postMessage({ id: m.id });
   });`,
  { eval: true },
);
const calls = new ThreadCalls<{ id: number }>(worker, "fixture thread", true);
await calls.call({ type: "ping" });
await calls.closeGracefully({ type: "stop" }, new Error("closed"), 5_000);
process.stdout.write("closed\n");
