import { randomUUID } from "node:crypto";
import type { Cache } from "@reco/cache";
import type { EventBus } from "@reco/bus";
import { DEFAULT_FEATURE_KEY_PREFIX, decodeEvent, recentItemsKey } from "@reco/contracts";
import { recommendationSchema } from "@reco/serving";
import { waitFor } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startServingApp, type ServingApp } from "./serving-fixture.ts";

export interface ServingAdapters {
  cache: () => Promise<Cache>;
  bus: (dataDir: string) => Promise<EventBus>;
}

/** Reads every message of `topic` from the start (own consumer group) until `until` holds. */
async function readTopic(
  bus: EventBus,
  topic: string,
  until: (values: unknown[]) => boolean,
): Promise<unknown[]> {
  const values: unknown[] = [];
  const consumer = bus.consumer({
    groupId: `test-${randomUUID()}`,
    topics: [topic],
    startFrom: "earliest",
  });
  await consumer.run(async (batch) => {
    for (const message of batch.messages) values.push(JSON.parse(message.value.toString("utf8")));
  });
  try {
    await waitFor(() => until(values), { timeoutMs: 20_000, description: `messages on ${topic}` });
  } finally {
    await consumer.stop();
  }
  return values;
}

/** The serving API's behaviour; run on the embedded adapters and on real Redis + Kafka. */
export function runServingSuite(name: string, adapters: ServingAdapters): void {
  describe(`serving API on ${name}`, () => {
    let server: ServingApp;
    beforeAll(async () => {
      server = await startServingApp({
        cache: await adapters.cache(),
        bus: adapters.bus,
        topicPrefix: `t${randomUUID().slice(0, 8)}`,
        serving: { batchWindowMs: 2, maxBatch: 32 },
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    const seenBy = (userId: string) =>
      new Set(server.data.ratings.filter((r) => r.userId === userId).map((r) => r.itemId));

    it("a warm user gets k model recommendations, none already seen, with titles", async () => {
      const { status, body } = await call(server, "/recommend/3?k=5", { key: server.clientKey });
      expect(status).toBe(200);
      expect(body).toMatchObject({
        userId: "3",
        modelVersion: "ials@v1",
        fallback: false,
        cached: false,
      });
      expect(body.items).toHaveLength(5);
      const seen = seenBy("3");
      for (const item of body.items) {
        expect(seen.has(item.itemId)).toBe(false);
        expect(item.title).toBe(`Movie ${item.itemId}`);
        expect(item.reason).toBe("personalized");
      }
      const scores = body.items.map((i: { score: number }) => i.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it("the same request is answered from the cache with a new recId; feedback invalidates it", async () => {
      const first = await call(server, "/recommend/4?k=4&device=tv", { key: server.clientKey });
      const second = await call(server, "/recommend/4?k=4&device=tv", { key: server.clientKey });
      // Both answers are exactly the documented shape: a cache hit is spliced from stored JSON.
      for (const answer of [first, second]) {
        expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
        expect(recommendationSchema.strict().parse(answer.body)).toEqual(answer.body);
      }
      expect(second.body.cached).toBe(true);
      expect(second.body.items).toEqual(first.body.items);
      expect(second.body.recId).not.toBe(first.body.recId);
      const top = first.body.items[0].itemId;
      const feedback = await call(server, "/feedback", {
        key: server.clientKey,
        body: { userId: "4", itemId: top, type: "click", recId: first.body.recId },
      });
      expect(feedback.status).toBe(202);
      const third = await call(server, "/recommend/4?k=4&device=tv", { key: server.clientKey });
      expect(third.body.cached).toBe(false);
      expect(third.body.items.map((i: { itemId: string }) => i.itemId)).not.toContain(top);
    });

    it("an unknown user gets popularity, most popular first, not flagged as a fallback", async () => {
      const { status, body } = await call(
        server,
        `/recommend/${encodeURIComponent("stranger ✓")}?k=6`,
        { key: server.clientKey },
      );
      expect(status).toBe(200);
      expect(body.fallback).toBe(false);
      expect(body.items).toHaveLength(6);
      expect(body.items.every((i: { reason: string }) => i.reason === "popular")).toBe(true);
      const counts = new Map<string, number>();
      for (const r of server.data.ratings) counts.set(r.itemId, (counts.get(r.itemId) ?? 0) + 1);
      const expectedTop = Math.max(...counts.values());
      expect(body.items[0].score).toBe(expectedTop);
      const scores = body.items.map((i: { score: number }) => i.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it("a new user is personalised by fold-in after a couple of events, never shown them again", async () => {
      const user = `new-${randomUUID()}`;
      const batch = await call(server, "/feedback", {
        key: server.clientKey,
        body: {
          events: [
            { userId: user, itemId: "10", type: "rate", value: 5 },
            { userId: user, itemId: "11", type: "watch", value: 0.9 },
          ],
        },
      });
      expect(batch).toMatchObject({ status: 202, body: { accepted: 2 } });
      const { body } = await call(server, `/recommend/${user}?k=5`, { key: server.clientKey });
      expect(body.fallback).toBe(false);
      expect(body.items[0].reason).toBe("similar_to_recent");
      const ids = body.items.map((i: { itemId: string }) => i.itemId);
      expect(ids).not.toContain("10");
      expect(ids).not.toContain("11");
    });

    it("interactions that reached another instance (the worker's recent items in the cache) personalise, and are never shown", async () => {
      const user = `elsewhere-${randomUUID()}`;
      const cold = await call(server, `/recommend/${user}?k=5`, { key: server.clientKey });
      expect(cold.body.items[0].reason).toBe("popular"); // nothing known of this user here
      const watched = cold.body.items.slice(0, 3).map((i: { itemId: string }) => i.itemId);
      // What the stream worker writes when those events reach it through another api instance;
      // that instance's feedback also dropped the user's cached answers (shared cache, by tag).
      const at = new Date().toISOString();
      await server.cache.pushLists(
        [
          {
            key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, user),
            values: watched.map((itemId: string) => ({ itemId, type: "watch", at })),
          },
        ],
        { maxLength: 50 },
      );
      await server.runtime.recommendations.invalidateUser(user);
      const { body } = await call(server, `/recommend/${user}?k=5`, { key: server.clientKey });
      expect(body).toMatchObject({ fallback: false, cached: false, modelVersion: "ials@v1" });
      expect(body.items[0].reason).toBe("similar_to_recent");
      const ids = body.items.map((i: { itemId: string }) => i.itemId);
      for (const itemId of watched) expect(ids).not.toContain(itemId);
    });

    it("feedback and served recommendations reach the bus", async () => {
      const rec = await call(server, "/recommend/5?k=3", { key: server.clientKey });
      await call(server, "/feedback", {
        key: server.clientKey,
        body: { userId: "5", itemId: "2", type: "rate", value: 4.5, recId: rec.body.recId },
      });
      const rates = await readTopic(server.bus, server.topics.rate, (values) =>
        values.some((v) => (v as { recId?: string }).recId === rec.body.recId),
      );
      expect(rates.find((v) => (v as { recId?: string }).recId === rec.body.recId)).toMatchObject({
        type: "rate",
        userId: "5",
        itemId: "2",
        rating: 4.5,
        schemaVersion: 1,
      });
      const responses = await readTopic(server.bus, server.topics.responses, (values) =>
        values.some((v) => (v as { recId?: string }).recId === rec.body.recId),
      );
      expect(
        responses.find((v) => (v as { recId?: string }).recId === rec.body.recId),
      ).toMatchObject({
        type: "reco.response",
        itemIds: rec.body.items.map((i: { itemId: string }) => i.itemId),
        modelVersion: "ials@v1",
        fallback: false,
      });
      // Everything the api publishes passes the shared contract the stream worker validates with.
      for (const value of [...rates, ...responses]) {
        expect(decodeEvent(JSON.stringify(value))).toMatchObject({ ok: true });
      }
    });

    it("a batch of 1000 feedback events is accepted", async () => {
      const events = Array.from({ length: 1000 }, (_, i) => ({
        userId: `bulk-${i % 50}`,
        itemId: String((i % 40) + 1),
        type: "click",
      }));
      const { status, body } = await call(server, "/feedback", {
        key: server.clientKey,
        body: { events },
      });
      expect(status).toBe(202);
      expect(body.accepted).toBe(1000);
    });

    it("similar items exclude the item itself and come from the model", async () => {
      const { status, body } = await call(server, "/similar/12?k=5", { key: server.clientKey });
      expect(status).toBe(200);
      expect(body.fallback).toBe(false);
      expect(body.items).toHaveLength(5);
      expect(body.items.map((i: { itemId: string }) => i.itemId)).not.toContain("12");
    });

    it("items are served from the catalog; unknown ones are 404", async () => {
      expect(await call(server, "/items/3", { key: server.clientKey })).toMatchObject({
        status: 200,
        body: { itemId: "3", title: "Movie 3", genres: ["Comedy"] },
      });
      expect(await call(server, "/items/999", { key: server.clientKey })).toMatchObject({
        status: 404,
        body: { error: { code: "NOT_FOUND" } },
      });
    });

    it("/metrics exposes route latency, cache hits and inference batches", async () => {
      const { status, body } = await call(server, "/metrics");
      expect(status).toBe(200);
      expect(body).toMatch(
        /reco_http_request_duration_seconds_count\{method="GET",route="\/recommend\/:userId",status="200"\} [1-9]/,
      );
      expect(body).toMatch(/reco_cache_requests_total\{result="hit"\} [1-9]/);
      expect(body).toMatch(/reco_inference_batch_size_count\{model="ials@v1"\} [1-9]/);
      expect(body).toMatch(/reco_model_loads_total\{result="ok"\} 1/);
      expect(body).toMatch(/reco_event_queue_depth \d+/);
    });

    it("/openapi.json documents the routes from the validating schemas", async () => {
      const { body } = await call(server, "/openapi.json");
      expect(body.openapi).toBe("3.1.0");
      const k = body.paths["/recommend/{userId}"].get.parameters.find(
        (p: { name: string }) => p.name === "k",
      );
      expect(k).toMatchObject({
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 100, default: 10 },
      });
      expect(
        body.paths["/feedback"].post.requestBody.content["application/json"].schema.oneOf,
      ).toHaveLength(2);
    });
  });
}
