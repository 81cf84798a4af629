import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { ThreadCalls } from "./worker-thread.ts";

/** A thread that answers each call after the `delayMs` it names. */
const ECHO_AFTER_DELAY = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (m) => {
  if (m.crash) throw new Error("crashed on purpose");
  setTimeout(() => parentPort.postMessage({ id: m.id, delayMs: m.delayMs }), m.delayMs);
});
`;

describe("ThreadCalls.drain", () => {
  const threads: ThreadCalls<{ id: number; delayMs: number }>[] = [];
  const start = () => {
    const calls = new ThreadCalls<{ id: number; delayMs: number }>(
      new Worker(ECHO_AFTER_DELAY, { eval: true }),
      "echo thread",
    );
    threads.push(calls);
    return calls;
  };
  afterEach(async () => {
    for (const calls of threads.splice(0)) await calls.close(new Error("test over"));
  });

  it("resolves true at once when nothing is in flight", async () => {
    expect(await start().drain(10)).toBe(true);
  });

  it("resolves true when the last call in flight is answered, not before", async () => {
    const calls = start();
    const answered: number[] = [];
    const inFlight = [300, 100].map((delayMs) =>
      calls.call({ delayMs }).then((reply) => answered.push(reply.delayMs)),
    );
    const started = Date.now();
    expect(await calls.drain(5_000)).toBe(true);
    const waited = Date.now() - started;
    expect(answered).toEqual([100, 300]);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2_000);
    await Promise.all(inFlight);
  });

  it("resolves false after its timeout while a call is still in flight", async () => {
    const calls = start();
    const slow = calls.call({ delayMs: 1_000 });
    expect(await calls.drain(50)).toBe(false);
    await slow;
    expect(await calls.drain(50)).toBe(true);
  });

  it("resolves true when the thread fails with calls in flight (they reject)", async () => {
    const calls = start();
    const slow = calls.call({ delayMs: 5_000 }).catch((error: Error) => error);
    const drained = calls.drain(10_000);
    void calls.call({ crash: true }).catch(() => undefined);
    expect(await drained).toBe(true);
    expect(await slow).toBeInstanceOf(Error);
  });
});

describe("ThreadCalls.closeGracefully", () => {
  it("keeps a process with nothing else to do alive until the thread has ended", async () => {
    const fixture = new URL("./close-gracefully.fixture.ts", import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fixture], {
      timeout: 30_000,
    });
    expect(stdout).toBe("closed\n");
  });
});
