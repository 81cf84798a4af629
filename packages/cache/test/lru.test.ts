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

  it("bounds lists by their bytes, not their item count: seen through which lists survive", async () => {
    // Each list: a 7-byte key and 4 items of ~50 bytes as JSON, so about 210 bytes. 10 kB holds
    // under 50 of them, whatever the entry bound (10,000) says.
    const cache = new MemoryCache({ maxEntries: 10_000, maxBytes: 10_000 });
    const item = (i: number, j: number) => ({ itemId: `item-${i}-${j}`, pad: "p".repeat(24) });
    for (let i = 0; i < 200; i += 1)
      await cache.pushLists(
        [{ key: `l:${String(i).padStart(5, "0")}`, values: [0, 1, 2, 3].map((j) => item(i, j)) }],
        { maxLength: 10 },
      );
    const kept: number[] = [];
    for (let i = 0; i < 200; i += 1)
      if ((await cache.getList(`l:${String(i).padStart(5, "0")}`)).length > 0) kept.push(i);
    expect(kept.length).toBeGreaterThan(30); // bytes, not a smaller bound, decide
    expect(kept.length).toBeLessThan(50);
    // the least recently pushed went first: the kept ones are the newest, whole
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, n) => 200 - kept.length + n));
    expect(await cache.getList("l:00199")).toEqual([3, 2, 1, 0].map((j) => item(199, j)));
  });

  it("a list that grows past the byte bound is dropped; small lists and values are not flushed by it", async () => {
    const cache = new MemoryCache({ maxBytes: 2_000, maxValueBytes: 1_000 });
    await cache.set("keep", "x");
    await cache.pushLists([{ key: "l:small", values: ["a"] }], { maxLength: 5 });
    const big = "b".repeat(100);
    for (let i = 0; i < 30; i += 1)
      await cache.pushLists([{ key: "l:big", values: [big] }], { maxLength: 1_000 });
    // 30 items of 102 bytes: over 2 kB, so the list cannot be held whole
    expect((await cache.getList("l:big")).length).toBeLessThan(20);
    expect(await cache.get("keep")).toBe("x");
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
