import { CacheUnavailable, type Cache } from "@reco/cache";

export interface RateLimitOptions {
  /** Sustained requests per second per key. */
  ratePerSecond: number;
  /** Burst size: the bucket's capacity. */
  burst: number;
  /** Buckets kept at most (idle keys are forgotten first). */
  maxKeys?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterS: number };

/** Charges one request to a key's allowance. */
export interface RateLimiter {
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** Token bucket per API key, in memory (per process: a cluster multiplies the allowance by instances). */
export class TokenBucketLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1))
      throw new RangeError("rate limit needs rate > 0 and burst ≥ 1");
  }

  take(key: string): RateDecision {
    const now = this.now();
    const { ratePerSecond, burst } = this.options;
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
      bucket.at = now;
      this.buckets.delete(key); // re-insert: Map order doubles as least-recently-used order
    } else {
      bucket = { tokens: burst, at: now };
      const maxKeys = this.options.maxKeys ?? 100_000;
      if (this.buckets.size >= maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)),
    };
  }
}

/**
 * Token bucket per API key in the shared cache (`Cache.takeToken`): every api instance on one Redis
 * charges the same bucket, so the allowance is per key, not per key and instance. While the cache
 * is unreachable each process falls back to its own in-memory bucket (the allowance then multiplies
 * by instances until it is back), so an outage never turns into 429s or 5xx.
 */
export class SharedRateLimiter implements RateLimiter {
  private readonly fallback: TokenBucketLimiter;

  constructor(
    private readonly cache: Pick<Cache, "takeToken">,
    private readonly options: RateLimitOptions,
    private readonly onFallback?: (error: Error) => void,
  ) {
    this.fallback = new TokenBucketLimiter(options);
  }

  async take(key: string): Promise<RateDecision> {
    try {
      const decision = await this.cache.takeToken(`ratelimit:${key}`, {
        ratePerSecond: this.options.ratePerSecond,
        burst: this.options.burst,
      });
      return decision.allowed
        ? { allowed: true }
        : { allowed: false, retryAfterS: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.onFallback?.(error);
      return this.fallback.take(key);
    }
  }
}
