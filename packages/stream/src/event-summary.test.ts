import { describe, expect, it } from "vitest";
import { summarize } from "./event-summary.ts";

const envelope = { schemaVersion: 1 as const, eventTime: "2026-01-05T10:00:00.000Z", userId: "u1" };

describe("summarize", () => {
  it("keeps what features and aggregates read of an interaction, nothing else", () => {
    expect(
      summarize({
        ...envelope,
        eventId: "e1",
        type: "watch",
        itemId: "i1",
        progress: 0.5,
        recId: "r1",
        context: { device: "tv", country: "FR" },
      }),
    ).toEqual({
      type: "watch",
      userId: "u1",
      eventTime: envelope.eventTime,
      itemId: "i1",
      recId: "r1",
    });
    expect(summarize({ ...envelope, eventId: "e2", type: "click", itemId: "i2" })).toEqual({
      type: "click",
      userId: "u1",
      eventTime: envelope.eventTime,
      itemId: "i2",
    });
  });

  it("drops a response's item list and keeps its experiment", () => {
    const response = {
      ...envelope,
      eventId: "e3",
      type: "reco.response" as const,
      recId: "r3",
      itemIds: Array.from({ length: 100 }, (_, i) => `i${i}`),
      modelVersion: "ials@v1",
      experimentKey: "exp-1",
      variant: "b",
      latencyMs: 4,
      cacheHit: false,
      fallback: false,
      status: 200,
    };
    expect(summarize(response)).toEqual({
      type: "reco.response",
      userId: "u1",
      eventTime: envelope.eventTime,
      recId: "r3",
      experimentKey: "exp-1",
    });
    const { experimentKey: _, ...outside } = response;
    expect(summarize(outside)).not.toHaveProperty("experimentKey");
  });
});
