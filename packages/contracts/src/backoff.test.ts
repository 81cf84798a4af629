import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

describe("Backoff", () => {
  it("pauses double up to the cap, and reset starts again from the first", async () => {
    const backoff = new Backoff(20, 50);
    const pauses = [];
    for (let i = 0; i < 4; i += 1) pauses.push(await timed(() => backoff.pause()));
    backoff.reset();
    pauses.push(await timed(() => backoff.pause()));
    // 20, 40, 50 (capped), 50, then 20 again; timers never fire early, and late by little here.
    const expected = [20, 40, 50, 50, 20];
    pauses.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(expected[i]! - 1);
      expect(ms).toBeLessThan(expected[i]! + 200);
    });
  });

  it("wake ends a pause under way at once; outside a pause it does nothing", async () => {
    const backoff = new Backoff(5_000, 5_000);
    backoff.wake();
    const pausing = timed(() => backoff.pause());
    setTimeout(() => backoff.wake(), 20);
    expect(await pausing).toBeLessThan(1_000);
  });
});
