import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { collectGarbageSoon } from "./gc.ts";

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
