export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /**
   * Names what is awaited in the timeout error; a function is called only then, so it can show
   * state gathered while waiting (e.g. a child process's output so far).
   */
  description?: string | (() => string);
}

/**
 * Calls `check` until it returns a value other than false, null or undefined without throwing,
 * and resolves with that value. On timeout, rejects naming what was awaited and the last error.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 100, description = "condition" }: WaitOptions = {},
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== null && value !== undefined) {
        return value as Exclude<T, false | null | undefined>;
      }
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      const what = typeof description === "function" ? description() : description;
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms${reason}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
