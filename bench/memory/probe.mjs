/**
 * Loaded into the api under measurement (`node --import ./probe.mjs scripts/run.mjs …`, spawned
 * with an IPC channel by bench/memory/run.ts): answers each "memory" message with the process's
 * own view of its memory — V8's heap, external and array-buffer bytes, the heap spaces — after a
 * full GC when asked (`{ gc: true }`, needs --expose-gc). Adds nothing else to the api: plain
 * JavaScript, so the api need not load tsx for it.
 */
import { getHeapSpaceStatistics } from "node:v8";

/** @param {{ kind?: string; gc?: boolean } | undefined} message */
function answer(message) {
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
}
process.on("message", answer);
// The IPC channel must not keep the api alive once it wants to exit.
process.channel?.unref();
