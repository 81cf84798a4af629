import { describe, expect, it } from "vitest";
import { TokenBucketLimiter } from "./rate-limit.ts";

describe("TokenBucketLimiter", () => {
  it("allows a burst, refuses beyond it with a Retry-After, and refills at the rate", () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ ratePerSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => limiter.take("k").allowed)).toEqual([true, true, true]);
    expect(limiter.take("k")).toEqual({ allowed: false, retryAfterS: 1 });
    now += 500; // one token back at 2/s
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k").allowed).toBe(false);
    now += 10_000; // refills only up to the burst
    expect([1, 2, 3, 4].map(() => limiter.take("k").allowed)).toEqual([true, true, true, false]);
  });

  it("keeps one bucket per key", () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1 }, () => 0);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("forgets the least recently used key beyond maxKeys (a forgotten key starts full)", () => {
    const limiter = new TokenBucketLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 }, () => 0);
    limiter.take("a");
    limiter.take("b");
    limiter.take("c"); // evicts a
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("c").allowed).toBe(false);
  });
});
