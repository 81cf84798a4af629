import { describe, expect, it } from "vitest";
import { CacheUnavailable, MemoryCache, RedisCache } from "@reco/cache";
import { SharedRateLimiter, TokenBucketLimiter } from "./rate-limit.ts";

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

describe("SharedRateLimiter", () => {
  it("charges the bucket in the cache: two limiters on one cache share one allowance per key", async () => {
    const cache = new MemoryCache();
    const options = { ratePerSecond: 0.01, burst: 3 };
    const a = new SharedRateLimiter(cache, options);
    const b = new SharedRateLimiter(cache, options);
    const decisions = [await a.take("k"), await b.take("k"), await a.take("k"), await b.take("k")];
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    // one token back at 0.01/s takes 100 s
    expect(decisions[3]).toEqual({ allowed: false, retryAfterS: 100 });
    expect((await b.take("other")).allowed).toBe(true);
  });

  it("falls back to its own in-process bucket while the cache is unreachable, and reports it", async () => {
    // A real Redis client pointed at a port nothing listens on: every call is CacheUnavailable.
    const down = new RedisCache({ url: "redis://127.0.0.1:1", connectTimeoutMs: 100 });
    const errors: Error[] = [];
    const limiter = new SharedRateLimiter(down, { ratePerSecond: 0.01, burst: 2 }, (error) =>
      errors.push(error),
    );
    const decisions = [await limiter.take("k"), await limiter.take("k"), await limiter.take("k")];
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBeInstanceOf(CacheUnavailable);
    await down.close();
  });
});
