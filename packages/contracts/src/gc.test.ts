import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { collectGarbageSoon, collectGarbageWhenIdle } from "./gc.ts";

/** A WeakRef to an object nothing else holds (made in its own scope). */
function unreachable(): WeakRef<object> {
  return new WeakRef({ rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) });
}

describe("collectGarbageSoon", () => {
  it("collects what nothing holds after the current task, in a process without --expose-gc", async () => {
    expect(process.execArgv).not.toContain("--expose-gc");
    const ref = unreachable();
    collectGarbageSoon();
    expect(ref.deref(), "not within the current task").toBeDefined();
    await sleep(50);
    expect(ref.deref()).toBeUndefined();
    // and again: the collector is kept
    const second = unreachable();
    collectGarbageSoon();
    await sleep(50);
    expect(second.deref()).toBeUndefined();
  });
});

/** Keeps this thread's event loop busy for `ms`, in slices, so timers still run between them. */
async function busyFor(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 15;
    while (performance.now() < slice);
    await sleep(1);
  }
}

/** An object that has survived young-generation collections (only a full one collects it). */
function oldUnreachable(): WeakRef<object> {
  const minor = () => collectYoung({ type: "minor" });
  const held = { rows: Array.from({ length: 10_000 }, (_, i) => ({ i })) };
  const ref = new WeakRef(held);
  minor();
  minor();
  return ref; // `held` ends with this call
}
let collectYoung: (options: { type: "minor" }) => void;

describe("collectGarbageWhenIdle", () => {
  it("collects once after the thread goes quiet following work, never during the work, and not again while quiet", async () => {
    v8.setFlagsFromString("--expose-gc");
    collectYoung = vm.runInNewContext("gc") as typeof collectYoung;
    const collected: number[] = [];
    const stop = collectGarbageWhenIdle({
      checkEveryMs: 20,
      workMs: 100,
      quietBeforeFullMs: 100,
      onCollected: () => collected.push(performance.now()),
    });
    try {
      // Start-up counts as work: the first quiet spell collects.
      await sleep(800);
      expect(collected).toHaveLength(1);
      const ref = oldUnreachable();
      const busyStart = performance.now();
      await busyFor(600);
      const busyEnd = performance.now();
      expect(collected, "no collection while busy").toHaveLength(1);
      expect(ref.deref(), "an old object outlives young collections").toBeDefined();
      await sleep(800);
      expect(collected).toHaveLength(2);
      expect(collected[1]).toBeGreaterThan(busyEnd);
      expect(collected[1]! - busyStart).toBeGreaterThan(600);
      expect(ref.deref()).toBeUndefined();
      await sleep(400);
      expect(collected, "quiet since: nothing to collect").toHaveLength(2);
    } finally {
      stop();
    }
  });

  it("takes short spells of work as too little to collect for, until they add up", async () => {
    const collected: number[] = [];
    const stop = collectGarbageWhenIdle({
      checkEveryMs: 20,
      workMs: 250,
      quietBeforeFullMs: 60,
      onCollected: () => collected.push(performance.now()),
    });
    try {
      await sleep(800); // start-up's collection
      expect(collected).toHaveLength(1);
      await busyFor(100);
      await sleep(300);
      expect(collected, "100 ms of work").toHaveLength(1);
      await busyFor(200);
      await sleep(800);
      expect(collected, "300 ms of work").toHaveLength(2);
    } finally {
      stop();
    }
  });
});
