/**
 * Retry pauses that double up to a cap, and that whoever stops the retrying can cut short
 * (`wake`), so a stop never waits out a pause.
 */
export class Backoff {
  private ms: number;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    this.ms = initialMs;
  }

  /** Waits the current pause (or until `wake`), then doubles it up to the cap. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
    this.ms = Math.min(this.ms * 2, this.maxMs);
  }

  /** Ends a pause under way at once (no-op otherwise). */
  wake(): void {
    this.wakeUp?.();
  }

  /** After a success: the next pause is the initial one again. */
  reset(): void {
    this.ms = this.initialMs;
  }
}
