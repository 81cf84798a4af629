import { CacheUnavailable, MemoryCache } from "@reco/cache";
import { decodeEvent, type RecommendationResponse } from "@reco/contracts";
import { waitFor } from "@reco/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { looseHarness, type LooseHarness } from "./loose-model.fixture.ts";
import { popularityStrategy, StrategyError, type RecommendStrategy } from "./strategies/index.ts";

type CacheMethod = "getText" | "setText" | "getList";

/** A MemoryCache whose `failing` methods reject with `error()` while `state.down` is set. */
function faultyCache(failing: readonly CacheMethod[], error: () => Error) {
  const cache = new MemoryCache();
  const state = { down: true };
  for (const method of failing) {
    const original = cache[method].bind(cache) as (...args: unknown[]) => Promise<unknown>;
    (cache as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      state.down ? Promise.reject(error()) : original(...args);
  }
  return { cache, state };
}

/**
 * What operators see of the serving path: a cache that is down or broken, the exposure events'
 * latency, telemetry dropped by a full queue, and the fallback reason of a custom strategy.
 */
describe("RecommendationService: cache faults, exposure and fallback reasons", () => {
  let harness: LooseHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof looseHarness>[0] = {}) =>
    (harness = await looseHarness(options));
  const picked = (answer: { items: { itemId: string; reason: string }[] }) =>
    answer.items.map((item) => `${item.itemId}:${item.reason}`);
  const histories = { a: ["i2", "i3"] };

  it("a cache that is down changes nobody's routing: a cold user stays cold, a known one folds in", async () => {
    const { cache } = faultyCache(
      ["getText", "setText", "getList"],
      () => new CacheUnavailable("redis down"),
    );
    const h = await start({ cache, histories });
    const cold = await h.recommend("nobody", 2);
    expect(cold.fallback).toBe(false);
    expect(picked(cold)).toEqual(["i19:popular", "i18:popular"]);
    const known = await h.recommend("a", 2);
    expect(known.fallback).toBe(false);
    expect(picked(known)).toEqual(["i4:similar_to_recent", "i5:similar_to_recent"]);
    expect(await h.metrics.value(h.metrics.cacheRequests, { result: "error" })).toBe(2);
  });

  it.each<CacheMethod>(["getText", "setText", "getList"])(
    "a cache whose %s fails with anything but CacheUnavailable (a bug) fails the request",
    async (method) => {
      const { cache, state } = faultyCache([method], () => new TypeError(`${method} bug`));
      const h = await start({ cache, histories });
      await expect(h.recommend("nobody", 2)).rejects.toThrow(`${method} bug`);
      await expect(h.recommend("a", 2)).rejects.toThrow(`${method} bug`);
      state.down = false;
      expect(picked(await h.recommend("nobody", 2))).toEqual(["i19:popular", "i18:popular"]);
    },
  );

  it("reco.responses carries the answer's latency: never more than the call took", async () => {
    const h = await start({ histories });
    const took: number[] = [];
    for (const user of ["a", "nobody", "a"]) {
      const before = performance.now();
      await h.recommend(user, 2);
      took.push(performance.now() - before);
    }
    expect(await h.events.flush(5_000)).toBe(0);
    let total = 0;
    for (const { offset } of await h.bus.endOffsets(h.topics.responses)) total += Number(offset);
    const values: Buffer[] = [];
    const reader = h.bus.consumer({ groupId: "latency-reader", topics: [h.topics.responses] });
    await reader.run(async ({ messages }) => void values.push(...messages.map((m) => m.value)));
    await waitFor(() => values.length >= total, {
      timeoutMs: 10_000,
      intervalMs: 20,
      description: "3 reco.response events",
    });
    await reader.stop();
    const latencies = values.map((value) => {
      const decoded = decodeEvent(value);
      if (!decoded.ok) throw new Error(decoded.reason);
      return (decoded.event as RecommendationResponse).latencyMs;
    });
    expect(latencies).toHaveLength(3);
    latencies.forEach((latency, i) => {
      expect(latency).toBeGreaterThanOrEqual(0);
      expect(latency).toBeLessThanOrEqual(took[i]!);
    });
  });

  it("exposures dropped by a full queue are counted as telemetry, and the answer is still given", async () => {
    // One event of room: telemetry may use 80 % of it, i.e. none.
    const h = await start({ queueCapacity: 1 });
    expect(picked(await h.recommend("nobody", 1))).toEqual(["i19:popular"]);
    await h.recommend("nobody", 1);
    expect(await h.metrics.value(h.metrics.eventsDropped, { kind: "telemetry" })).toBe(4);
    expect(await h.metrics.value(h.metrics.eventsDropped, { kind: "feedback" })).toBe(0);
  });

  it("a custom strategy failing without a reason of its own makes an inference_error fallback", async () => {
    const blank: RecommendStrategy = {
      name: "editorial",
      fill: () => {
        throw new StrategyError("", "feed returned nothing usable");
      },
    };
    const h = await start({ deps: { strategies: [blank, popularityStrategy] } });
    const answer = await h.recommend("nobody", 2);
    expect(answer.fallback).toBe(true);
    expect(answer.fallbackReason).toBe("inference_error");
    expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "inference_error" })).toBe(1);
  });
});
