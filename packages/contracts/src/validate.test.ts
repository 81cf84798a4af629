import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "./events.ts";
import { MAX_EVENT_BYTES, decodeEvent } from "./validate.ts";

const click = {
  schemaVersion: SCHEMA_VERSION,
  eventId: "e1",
  eventTime: "2026-01-01T00:00:00.000Z",
  userId: "u1",
  type: "click",
  itemId: "i1",
  recId: "r1",
};

describe("decodeEvent", () => {
  it("accepts a valid event", () => {
    const result = decodeEvent(Buffer.from(JSON.stringify(click)));
    expect(result).toEqual({ ok: true, event: click });
  });

  it.each([
    ["bad json", "{not json", /^bad json: /],
    [
      "unknown schemaVersion",
      JSON.stringify({ ...click, schemaVersion: 9 }),
      /^unknown schemaVersion: 9$/,
    ],
    ["unknown type", JSON.stringify({ ...click, type: "hover" }), /^invalid: type: /],
    ["missing field", JSON.stringify({ ...click, itemId: undefined }), /^invalid: itemId: /],
    ["extra field", JSON.stringify({ ...click, extra: 1 }), /^invalid: .*extra/],
    ["bad rating", JSON.stringify({ ...click, type: "rate", rating: 9 }), /^invalid: rating: /],
    ["bad time", JSON.stringify({ ...click, eventTime: "yesterday" }), /^invalid: eventTime: /],
    [
      "oversized",
      JSON.stringify({ ...click, itemId: "x".repeat(MAX_EVENT_BYTES) }),
      /^oversized: /,
    ],
  ])("rejects %s with a reason naming the problem", (_name, raw, reason) => {
    const result = decodeEvent(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
