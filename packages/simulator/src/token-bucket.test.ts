import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.ts";

/** A clock the test moves by hand (ms). */
function clock() {
  const state = { t: 0 };
  return { state, now: () => state.t };
}

describe("TokenBucket", () => {
  it("starts full, then spaces tokens 1/rate apart (rate 2/s, burst 1)", () => {
    const { state, now } = clock();
    const bucket = new TokenBucket(2, 1, now);
    expect(bucket.delayMs()).toBe(0);
    expect(bucket.delayMs()).toBe(500);
    expect(bucket.delayMs()).toBe(1000);
    state.t = 1000; // 2 tokens refilled: the balance goes from −2 to 0
    expect(bucket.delayMs()).toBe(500);
  });

  it("lets a burst through at once and refills at most to the burst size", () => {
    const { state, now } = clock();
    const bucket = new TokenBucket(10, 5, now);
    for (let i = 0; i < 5; i += 1) expect(bucket.delayMs()).toBe(0);
    expect(bucket.delayMs()).toBeCloseTo(100, 9);
    state.t = 10_000; // 100 tokens' worth of time, capped at 5
    for (let i = 0; i < 5; i += 1) expect(bucket.delayMs()).toBe(0);
    expect(bucket.delayMs()).toBeCloseTo(100, 9);
  });

  it("take() past the deadline returns false and gives the token back", async () => {
    const { now } = clock();
    const bucket = new TokenBucket(1, 1, now);
    await expect(bucket.take(500)).resolves.toBe(true); // the full bucket's token
    await expect(bucket.take(500)).resolves.toBe(false); // the next comes at 1000 ms
    expect(bucket.delayMs()).toBe(1000); // not 2000: the refused token was returned
  });

  it("refuses a rate or burst that would never give a token", () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/rate/);
    expect(() => new TokenBucket(Number.NaN, 1)).toThrow(/rate/);
    expect(() => new TokenBucket(1, 0.5)).toThrow(/burst/);
  });
});
