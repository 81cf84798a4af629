import { describe, expect, it } from "vitest";
import { parseFeedbackBody, toInteractionEvent } from "./feedback.ts";

describe("feedback parsing", () => {
  it("accepts one event or a batch and turns them into bus events with ids and times", () => {
    const [single] = parseFeedbackBody({
      userId: "u",
      itemId: "i",
      type: "rate",
      value: 4.5,
      recId: "r1",
    });
    const event = toInteractionEvent(single!, new Date("2026-01-02T03:04:05Z"));
    expect(event).toMatchObject({
      type: "rate",
      rating: 4.5,
      userId: "u",
      itemId: "i",
      recId: "r1",
      schemaVersion: 1,
    });
    expect(event.eventTime).toBe("2026-01-02T03:04:05.000Z");
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    const batch = parseFeedbackBody({
      events: [
        { userId: "u", itemId: "i", type: "watch", value: 0.5, ts: "2026-01-01T00:00:00+01:00" },
      ],
    });
    expect(toInteractionEvent(batch[0]!, new Date())).toMatchObject({
      type: "watch",
      progress: 0.5,
      eventTime: "2026-01-01T00:00:00+01:00",
    });
  });

  it("names the field and the index of a bad event", () => {
    expect(() =>
      parseFeedbackBody({
        events: [
          { userId: "u", itemId: "i", type: "click" },
          { userId: "u", itemId: "i", type: "rate" },
        ],
      }),
    ).toThrow(/events\.1\.value: a rate event needs value between 0\.5 and 5/);
    expect(() => parseFeedbackBody([])).toThrow(/body must be a JSON object/);
  });

  it("keeps a client's eventId (an idempotent retry), gives the others fresh UUIDs, and names a bad one", () => {
    const [given, fresh] = parseFeedbackBody({
      events: [
        { userId: "u", itemId: "i", type: "click", eventId: "client-chosen-1" },
        { userId: "u", itemId: "i", type: "click" },
      ],
    });
    const now = new Date();
    expect(toInteractionEvent(given!, now).eventId).toBe("client-chosen-1");
    const a = toInteractionEvent(fresh!, now).eventId;
    const b = toInteractionEvent(fresh!, now).eventId;
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect(() =>
      parseFeedbackBody({ userId: "u", itemId: "i", type: "click", eventId: "bad\nid" }),
    ).toThrow(/eventId: must not contain control characters/);
  });
});
