/**
 * A token bucket: `rate` tokens per second, at most `burst` held (it starts full). Each request
 * takes one token; `delayMs` says how long a caller waits for its token (0 when one is there).
 * Tokens are reserved in call order, so concurrent callers are spaced 1/rate apart.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`rate must be a positive number, got ${rate}`);
    if (!(burst >= 1) || !Number.isFinite(burst))
      throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  /** Takes a token (possibly one still to come) and returns how many ms to wait before using it. */
  delayMs(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  /** Waits for a token; resolves false without waiting past `deadline` (a `now()` value). */
  async take(deadline = Infinity): Promise<boolean> {
    const wait = this.delayMs();
    if (this.now() + wait > deadline) {
      this.tokens += 1; // not used: give it back
      return false;
    }
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return true;
  }
}
