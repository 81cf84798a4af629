import { describe, expect, it } from "vitest";
import { runCacheContract } from "@reco/cache/contract";
import { MemoryCache, createCache } from "@reco/cache";

runCacheContract("in-process LRU", {
  makeCache: async () => new MemoryCache({ maxValueBytes: 4096 }),
});

describe("MemoryCache bounds", () => {
  it("never holds more than maxEntries, evicting the least recently used", async () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    await cache.set("a", 1);
    await cache.set("b", 2);
    await cache.set("c", 3);
    await cache.get("a"); // a becomes most recently used, so b is the eviction victim
    await cache.set("d", 4);
    expect(cache.usage.entries).toBe(3);
    expect(await cache.get("b")).toBeUndefined();
    expect(await cache.get("a")).toBe(1);
    expect(await cache.get("d")).toBe(4);
  });

  it("never holds more than maxBytes, however many small entries fit the count bound", async () => {
    const cache = new MemoryCache({ maxEntries: 10_000, maxBytes: 10_000 });
    const value = "v".repeat(98); // 100 bytes as JSON, plus the key
    for (let i = 0; i < 1000; i += 1) {
      await cache.set(`k${String(i).padStart(4, "0")}`, value);
      expect(cache.usage.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(cache.usage.entries).toBeLessThan(100);
    expect(await cache.get("k0999")).toBe(value);
    expect(await cache.get("k0000")).toBeUndefined();
  });

  it("refuses a value bigger than the byte bound instead of flushing everything else", async () => {
    const cache = new MemoryCache({ maxBytes: 2000, maxValueBytes: 1_000_000 });
    await cache.set("keep", "x");
    expect(await cache.set("huge", "y".repeat(5000))).toBe(false);
    expect(await cache.get("keep")).toBe("x");
  });

  it("applies the default TTL when a set gives none", async () => {
    const cache = new MemoryCache({ defaultTtlMs: 100 });
    await cache.set("d", 1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await cache.get("d")).toBeUndefined();
  });

  it("createCache builds the in-process adapter for kind memory", async () => {
    const cache = await createCache({ kind: "memory", maxEntries: 5 });
    expect(cache.kind).toBe("memory");
    await cache.set("x", { ok: true });
    expect(await cache.get("x")).toEqual({ ok: true });
  });
});
