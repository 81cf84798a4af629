/**
 * The event log's writer thread (see writer-thread.ts): encodes a batch of records, writes it with
 * one pwrite loop and makes it durable with one fdatasync (unless the log syncs on its own schedule),
 * on the descriptor the log opened.
 * Synchronous calls are right here: this thread does nothing else while a batch is on its way.
 */
import { fdatasyncSync, ftruncateSync, writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { RecordEncoder } from "./record.ts";
import type { AppendReply, AppendRequest } from "./writer-thread.ts";

const encoder = new RecordEncoder();

parentPort!.on("message", (request: AppendRequest) => {
  parentPort!.postMessage(append(request));
});

function append(request: AppendRequest): AppendReply {
  const { id, fd, position, firstOffset, indexEvery, keys, values, timestamps, sync } = request;
  const indexed: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const offset = firstOffset + i;
    const value = values[i]!;
    const start = encoder.add({
      offset,
      timestamp: timestamps[i]!,
      key: keys[i]!,
      // A Buffer arrives as a plain Uint8Array: view the same bytes as a Buffer again.
      value:
        typeof value === "string"
          ? value
          : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    });
    if (offset % indexEvery === 0) indexed.push(position + start);
  }
  const data = encoder.take();
  try {
    let written = 0;
    while (written < data.length)
      written += writeSync(fd, data, written, data.length - written, position + written);
    if (sync) fdatasyncSync(fd);
    return { id, ok: true, bytes: data.length, indexed };
  } catch (error) {
    let truncated = true;
    try {
      ftruncateSync(fd, position);
    } catch {
      truncated = false;
    }
    return { id, ok: false, message: (error as Error).message, truncated };
  }
}
