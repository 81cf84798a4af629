import { describe, expect, it } from "vitest";
import { waitFor } from "./wait.ts";

describe("waitFor", () => {
  it("resolves with the first truthy value, retrying through false and thrown errors", async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        if (calls === 1) throw new Error("not yet");
        return calls >= 3 ? `ready after ${calls}` : false;
      },
      { intervalMs: 5 },
    );
    expect(value).toBe("ready after 3");
    expect(calls).toBe(3);
  });

  it("keeps falsy-but-present values such as 0 and an empty string", async () => {
    expect(await waitFor(() => 0)).toBe(0);
    expect(await waitFor(async () => "")).toBe("");
  });

  it("rejects after the timeout, naming what it waited for and the last error", async () => {
    const started = Date.now();
    await expect(
      waitFor(
        () => {
          throw new Error("broker down");
        },
        { timeoutMs: 150, intervalMs: 20, description: "the broker" },
      ),
    ).rejects.toThrow("waitFor: the broker not met within 150 ms: broker down");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
