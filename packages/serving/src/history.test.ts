import { describe, expect, it } from "vitest";
import { InteractionHistory } from "./history.ts";

describe("InteractionHistory.forget", () => {
  it("drops the user's items and seen set; other users keep theirs; the version keeps counting", () => {
    const history = new InteractionHistory();
    history.record("gone", "a");
    history.record("gone", "b");
    history.record("kept", "a");
    expect(history.version("gone")).toBe(2);

    expect(history.forget("gone")).toBe(true);
    expect(history.items("gone")).toEqual([]);
    expect(history.count("gone")).toBe(0);
    expect(history.seen("gone").has("a")).toBe(false);
    expect(history.users).toBe(1);
    expect(history.items("kept")).toEqual(["a"]);
    expect(history.seen("kept").has("a")).toBe(true);
    // Not back to 0: something derived from the old history at version 1 or 2 is not reused.
    expect(history.version("gone")).toBe(3);
    history.record("gone", "c");
    expect(history.version("gone")).toBe(4);
    expect(history.items("gone")).toEqual(["c"]);
    expect(history.forget("nobody")).toBe(false);
  });
});
