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

describe("MemoryCache: details the shared contract leaves open", () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** The tag index, read from outside: it must only ever hold tagged keys the cache still has. */
  const tagIndex = (cache: MemoryCache) => {
    const inside = cache as unknown as {
      tagged: Map<string | undefined, Set<string>>;
      tagOf: Map<string, string | undefined>;
    };
    return {
      tags: [...inside.tagged.keys()],
      keys: [...inside.tagOf.keys()].sort(),
      members: [...inside.tagged.values()].reduce((n, keys) => n + keys.size, 0),
    };
  };

  it("a read does not extend a value's TTL", async () => {
    const cache = new MemoryCache();
    await cache.set("t", 1, { ttlMs: 300 });
    await sleep(150);
    expect(await cache.get("t")).toBe(1);
    await sleep(250);
    expect(await cache.get("t")).toBeUndefined();
  });

  it("the size limit counts key and value bytes, and a value exactly at maxValueBytes is kept", async () => {
    const cache = new MemoryCache({ maxValueBytes: 100 });
    expect(await cache.setText("k", "x".repeat(99))).toBe(true); // 1 + 99 = 100
    expect(await cache.setText("k2", "x".repeat(99))).toBe(false); // 2 + 99 = 101
    const longKey = "k".repeat(50);
    expect(await cache.setText(longKey, "x".repeat(60))).toBe(false); // 110: the key counts too
    expect(await cache.getText("k")).toBe("x".repeat(99));
  });

  it("only the values that can stay in the list are encoded: older ones are not even looked at", async () => {
    const cache = new MemoryCache();
    // undefined cannot be JSON: it would be refused, but it falls off the end before encoding
    await cache.pushLists([{ key: "l", values: [undefined, 1, 2] }], { maxLength: 2 });
    expect(await cache.getList("l")).toEqual([2, 1]);
    await expect(
      cache.pushLists([{ key: "l", values: [1, undefined] }], { maxLength: 2 }),
    ).rejects.toThrow(/JSON-serialisable/);
  });

  it("an empty push leaves a value under the key alone", async () => {
    const cache = new MemoryCache();
    await cache.set("k", { v: 1 });
    await cache.pushLists([{ key: "k", values: [] }], { maxLength: 3 });
    expect(await cache.get("k")).toEqual({ v: 1 });
    expect(await cache.getList("k")).toEqual([]);
  });

  it("an entry re-set under another tag leaves its old tag (stricter than the contract)", async () => {
    const cache = new MemoryCache();
    await cache.setText("a", "1", { tag: "t" });
    await cache.setText("b", "2", { tag: "t" });
    await cache.setText("a", "1", { tag: "u" });
    expect(await cache.deleteTag("t")).toBe(1); // only b: a moved to u
    expect(await cache.getText("a")).toBe("1");
    expect(await cache.getText("b")).toBeUndefined();
    expect(await cache.deleteTag("u")).toBe(1);
    // re-set without a tag: it leaves t, and t's other key stays under t
    await cache.setText("c", "3", { tag: "t" });
    await cache.setText("d", "4", { tag: "t" });
    await cache.setText("c", "3");
    expect(await cache.deleteTag("t")).toBe(1);
    expect(await cache.getText("c")).toBe("3");
  });

  it("the tag index only holds tagged keys still cached (evicted, deleted and untagged ones leave)", async () => {
    const cache = new MemoryCache({ maxEntries: 2 });
    await cache.setText("plain", "0");
    expect(tagIndex(cache)).toEqual({ tags: [], keys: [], members: 0 });
    await cache.setText("a", "1", { tag: "t" });
    await cache.setText("b", "2", { tag: "t" });
    await cache.setText("c", "3", { tag: "u" }); // evicts plain
    await cache.setText("d", "4", { tag: "u" }); // evicts a
    expect(tagIndex(cache)).toEqual({ tags: ["u"], keys: ["c", "d"], members: 2 });
    await cache.delete("c");
    await cache.pushLists([{ key: "d", values: [1] }], { maxLength: 2 }); // a list replaces d
    expect(tagIndex(cache)).toEqual({ tags: [], keys: [], members: 0 });
  });

  it("deleteByPrefix removes only the lists under the prefix, and usage counts values and lists", async () => {
    const cache = new MemoryCache();
    await cache.pushLists(
      [
        { key: "p:1", values: ["a"] },
        { key: "q:1", values: ["b"] },
      ],
      { maxLength: 3 },
    );
    await cache.setText("p:2", "v");
    expect(cache.usage.entries).toBe(3);
    // bytes: "p:2"+"v" = 4; each list: key 3 + item JSON 3 + 1 = 7
    expect(cache.usage.bytes).toBe(4 + 7 + 7);
    expect(await cache.deleteByPrefix("p:")).toBe(2);
    expect(await cache.getList("q:1")).toEqual(["b"]);
    expect(cache.usage).toEqual({ entries: 1, bytes: 7 });
    await cache.close();
    expect(cache.usage).toEqual({ entries: 0, bytes: 0 });
  });

  it("names a bad key, tag, text or list values in its error", async () => {
    const cache = new MemoryCache();
    await expect(cache.set(5 as unknown as string, 1)).rejects.toThrow(
      "cache key must be a non-empty string",
    );
    await expect(cache.setText("k", "v", { tag: 5 as unknown as string })).rejects.toThrow(
      "cache tag must be a non-empty string",
    );
    await expect(cache.setText("k", 5 as unknown as string)).rejects.toThrow(
      "setText needs a string value",
    );
    await expect(
      cache.pushLists([{ key: "k", values: "abc" as unknown as unknown[] }], { maxLength: 2 }),
    ).rejects.toThrow("list values must be an array");
  });
});
