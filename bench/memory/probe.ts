/**
 * Loaded into the api under measurement (`node --import tsx --import ./probe.ts main.ts`, spawned
 * with an IPC channel by bench/memory/run.ts): answers each "memory" message with the process's
 * own view of its memory — V8's heap, external and array-buffer bytes, the heap spaces — after a
 * full GC when asked (`{ gc: true }`, needs --expose-gc). Adds nothing else to the api.
 */
import { getHeapSpaceStatistics } from "node:v8";

interface Ask {
  kind: "memory";
  gc?: boolean;
}

process.on("message", (message: Ask) => {
  if (message?.kind !== "memory") return;
  if (message.gc && typeof globalThis.gc === "function") {
    globalThis.gc();
    globalThis.gc();
  }
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]),
  );
  process.send?.({ kind: "memory", usage, spaces });
});
// The IPC channel must not keep the api alive once it wants to exit.
process.channel?.unref();
