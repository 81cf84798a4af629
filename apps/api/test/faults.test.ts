import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { BusUnavailable, connectKafkaBus, openFileLogBus } from "@reco/bus";
import { MemoryCache, createRedisCache } from "@reco/cache";
import { startPrivateKafka, startPrivateRedis, waitFor } from "@reco/testkit";
import { describe, expect, it } from "vitest";
import { call, startServingApp } from "./serving-fixture.ts";

const fileBus = (dataDir: string) => openFileLogBus({ dir: path.join(dataDir, "events") });

describe("faults", () => {
  it("Redis stopped mid-run: recommendations keep flowing, cache errors are counted as misses, then it recovers", async () => {
    const redis = await startPrivateRedis({ persistence: "none" });
    const server = await startServingApp({
      cache: await createRedisCache({ url: redis.url, commandTimeoutMs: 200 }),
      bus: fileBus,
      topicPrefix: `f${randomUUID().slice(0, 6)}`,
    });
    const metrics = server.runtime.metrics;
    try {
      await call(server, "/recommend/3?k=3", { key: server.clientKey });
      expect((await call(server, "/recommend/3?k=3", { key: server.clientKey })).body.cached).toBe(
        true,
      );

      await redis.kill();
      const started = Date.now();
      for (let i = 0; i < 10; i += 1) {
        const answer = await call(server, `/recommend/${(i % 5) + 1}?k=3`, {
          key: server.clientKey,
        });
        expect(answer.status).toBe(200);
        expect(answer.body.items).toHaveLength(3);
        expect(answer.body.cached).toBe(false);
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(
        await metrics.value(metrics.cacheRequests, { result: "error" }),
      ).toBeGreaterThanOrEqual(10);
      const feedback = await call(server, "/feedback", {
        key: server.clientKey,
        body: { userId: "3", itemId: "1", type: "click" },
      });
      expect(feedback.status).toBe(202);

      await redis.restart();
      await waitFor(
        async () =>
          (await call(server, "/recommend/9?k=2", { key: server.clientKey })).body.cached === true,
        {
          timeoutMs: 10_000,
          description: "cache hits again after Redis restarts",
        },
      );
    } finally {
      await server.close();
      await redis.dispose();
    }
  });

  it("Kafka stopped: recommend stays 200, feedback waits for the broker and is refused with 503 + Retry-After and its event ids after the bound (nothing left queued); a retry with those ids after the broker returns is 202 and stored once", async () => {
    const kafka = await startPrivateKafka();
    const capacity = 20;
    const ackTimeoutMs = 1_500;
    const server = await startServingApp({
      cache: new MemoryCache(),
      bus: () =>
        connectKafkaBus({
          brokers: kafka.brokerList,
          clientId: "faults-test",
          operationTimeoutMs: 5_000,
        }),
      topicPrefix: `k${randomUUID().slice(0, 6)}`,
      serving: { eventQueueCapacity: capacity, feedbackAckTimeoutMs: ackTimeoutMs },
    });
    const metrics = server.runtime.metrics;
    try {
      await kafka.stop();
      for (let i = 0; i < 15; i += 1) {
        const answer = await call(server, `/recommend/u${i}?k=3`, { key: server.clientKey });
        expect(answer.status).toBe(200);
      }
      // Telemetry may use 80% of the queue; beyond that it is dropped and counted, never blocking.
      expect(server.runtime.events.depth).toBeLessThanOrEqual(Math.floor(capacity * 0.8));
      expect(await metrics.value(metrics.eventsPublished)).toBe(0);
      expect(await metrics.value(metrics.eventsDropped, { kind: "telemetry" })).toBeGreaterThan(0);

      const depthBefore = server.runtime.events.depth;
      const started = Date.now();
      const refused = await call(server, "/feedback", {
        key: server.clientKey,
        body: { userId: "fb1", itemId: "7", type: "click" },
      });
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(ackTimeoutMs - 50);
      expect(refused.body.error.code).toBe("UNAVAILABLE");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const eventIds = refused.body.error.details.eventIds as string[];
      expect(eventIds).toHaveLength(1);
      expect(await metrics.value(metrics.feedbackTimeouts)).toBe(1);
      // the refused event does not stay behind in the queue
      await waitFor(() => server.runtime.events.depth <= depthBefore, {
        timeoutMs: 10_000,
        description: "the refused feedback leaves the queue",
      });

      // no room at all: refused at once, counted
      const full = await call(server, "/feedback", {
        key: server.clientKey,
        body: {
          events: Array.from({ length: capacity }, (_, i) => ({
            userId: `fb${i}`,
            itemId: "7",
            type: "click",
          })),
        },
      });
      expect(full.status).toBe(503);
      expect(await metrics.value(metrics.eventsDropped, { kind: "feedback" })).toBe(capacity);
      expect((await call(server, "/recommend/3?k=3", { key: server.clientKey })).status).toBe(200);

      await kafka.restart();
      const retried = await waitFor(
        async () => {
          const answer = await call(server, "/feedback", {
            key: server.clientKey,
            body: { userId: "fb1", itemId: "7", type: "click", eventId: eventIds[0] },
          });
          return answer.status === 202 ? answer : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, description: "feedback accepted again" },
      );
      expect(retried.body).toEqual({ accepted: 1 });
      await waitFor(() => server.runtime.events.depth === 0, {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: "event queue drains",
      });
      // on the topic: only that event id (a retry whose attempt was in flight when it timed out may
      // have stored it twice under the same id, which readers count once)
      const ids: string[] = [];
      // The restarted broker's group coordinator may still be loading past the consumer's own
      // retries on a busy machine (BusUnavailable): join again until it answers.
      const consumer = await waitFor(
        async () => {
          const attempt = server.bus.consumer({
            groupId: `check-${randomUUID()}`,
            topics: [server.topics.click],
          });
          try {
            await attempt.run(async (batch) => {
              for (const m of batch.messages)
                ids.push((JSON.parse(m.value.toString()) as { eventId: string }).eventId);
            });
            return attempt;
          } catch (error) {
            if (error instanceof BusUnavailable) return undefined;
            throw error;
          }
        },
        { timeoutMs: 90_000, intervalMs: 1_000, description: "the check consumer joins" },
      );
      try {
        await waitFor(() => ids.length > 0, { timeoutMs: 30_000, description: "click read" });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      } finally {
        await consumer.stop();
      }
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids)).toEqual(new Set([eventIds[0]]));
    } finally {
      await server.close();
      await kafka.dispose();
    }
  }, 180_000);

  it("a corrupt model file: answers come from popularity with fallback true, and a metric names the reason", async () => {
    const server = await startServingApp({
      cache: new MemoryCache(),
      bus: fileBus,
      topicPrefix: `c${randomUUID().slice(0, 6)}`,
    });
    const metrics = server.runtime.metrics;
    try {
      await writeFile(path.join(server.modelDir, "model.onnx"), "not an onnx model");
      for (const userId of ["3", "4", "new-user-with-no-history"]) {
        const answer = await call(server, `/recommend/${userId}?k=5`, { key: server.clientKey });
        expect(answer.status).toBe(200);
        expect(answer.body.items).toHaveLength(5);
        if (userId !== "new-user-with-no-history") {
          expect(answer.body).toMatchObject({ fallback: true, fallbackReason: "model_corrupt" });
          expect(answer.body.items.every((i: { reason: string }) => i.reason === "popular")).toBe(
            true,
          );
        }
      }
      expect(await metrics.value(metrics.fallbacks, { reason: "model_corrupt" })).toBe(2);
      expect(await metrics.value(metrics.modelLoads, { result: "error" })).toBe(1);
      // A fallback answer is not cached: once the model is good again it serves (after the load backoff).
      expect((await call(server, "/recommend/3?k=5", { key: server.clientKey })).body.cached).toBe(
        false,
      );
      const similar = await call(server, "/similar/5?k=3", { key: server.clientKey });
      expect(similar).toMatchObject({ status: 200, body: { fallback: true } });
    } finally {
      await server.close();
    }
  });
});

describe("database outage", () => {
  it("keys already checked keep working from memory, an unchecked key gets 503 (never a 500), /readyz reports it", async () => {
    const server = await startServingApp({
      cache: new MemoryCache(),
      bus: fileBus,
      topicPrefix: `d${randomUUID().slice(0, 6)}`,
    });
    try {
      expect((await call(server, "/recommend/3?k=3", { key: server.clientKey })).status).toBe(200);
      const unchecked = (await server.keys.create({ name: "new", role: "client" })).key;
      await server.data.db.close();
      const known = await call(server, "/recommend/4?k=3", { key: server.clientKey });
      expect(known.status).toBe(200);
      expect(known.body.items).toHaveLength(3);
      const refused = await call(server, "/recommend/4?k=3", { key: unchecked });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("UNAVAILABLE");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const viewer = (
        await server.keys.create({ name: "viewer2", role: "viewer" }).catch(() => null)
      )?.key;
      expect(viewer).toBeUndefined(); // the database is gone: no key can be created either
      const trpc = await call(server, "/trpc/stats.counts", { key: unchecked });
      expect(trpc.status).toBe(503);
      const ready = await call(server, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.error.details.checks.database).toBe(false);
    } finally {
      await server.close();
    }
  });
});
