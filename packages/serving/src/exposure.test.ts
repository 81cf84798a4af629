import { randomUUID } from "node:crypto";
import { JsonText } from "@reco/bus";
import { decodeEvent, topicNames } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { exposureEvents, type AnswerMeta } from "./exposure.ts";

const topics = topicNames("t");

function decoded(meta: AnswerMeta, overrides: Partial<Parameters<typeof exposureEvents>[0]> = {}) {
  const events = exposureEvents({
    topics,
    userId: "u1",
    k: 10,
    context: {},
    recId: randomUUID(),
    metaJson: JSON.stringify(meta),
    cacheHit: false,
    latencyMs: 1.25,
    eventTime: new Date("2026-01-05T10:00:00Z").toISOString(),
    eventIds: [randomUUID(), randomUUID()],
    ...overrides,
  });
  return events.map((event) => {
    expect(event.value).toBeInstanceOf(JsonText);
    const result = decodeEvent((event.value as JsonText).text);
    if (!result.ok) throw new Error(`${event.topic}: ${result.reason}`);
    return { topic: event.topic, key: event.key, event: result.event };
  });
}

describe("exposure events", () => {
  it("are valid reco.request + reco.response events carrying the answer's fields", () => {
    const recId = randomUUID();
    const [request, response] = decoded(
      { itemIds: ["i1", "i2"], modelVersion: "ials@v2", fallback: false },
      { recId, cacheHit: true },
    );
    expect(request).toMatchObject({
      topic: topics.requests,
      key: "u1",
      event: { type: "reco.request", userId: "u1", recId, k: 10 },
    });
    expect(request!.event).not.toHaveProperty("context");
    expect(response).toMatchObject({
      topic: topics.responses,
      event: {
        type: "reco.response",
        recId,
        itemIds: ["i1", "i2"],
        modelVersion: "ials@v2",
        cacheHit: true,
        fallback: false,
        latencyMs: 1.25,
        status: 200,
      },
    });
  });

  it("carry experiment arm, fallback reason, context and awkward ids exactly", () => {
    const userId = 'ü "quoted" \\ back\u2028slash';
    const [request, response] = decoded(
      {
        itemIds: ['it"em', "ï"],
        modelVersion: "popularity",
        experimentKey: "exp-1",
        variant: "treatment",
        fallback: true,
        fallbackReason: "model_missing",
      },
      { userId, context: { device: "tv", country: "FR" }, latencyMs: Number.NaN },
    );
    expect(request!.event).toMatchObject({ userId, context: { device: "tv", country: "FR" } });
    expect(response!.event).toMatchObject({
      userId,
      itemIds: ['it"em', "ï"],
      experimentKey: "exp-1",
      variant: "treatment",
      fallback: true,
      fallbackReason: "model_missing",
      latencyMs: 0,
    });
  });
});
