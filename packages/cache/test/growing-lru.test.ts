import { LRUCache } from "lru-cache";
import { describe, expect, it } from "vitest";
import { GrowingLru } from "../src/index.ts";

const heapAndBuffers = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

describe("GrowingLru", () => {
  it("keeps at most maxEntries, evicting the least recently used with reason evict", () => {
    const evicted: [string, string][] = [];
    const cache = new GrowingLru<string, number>(3, {
      dispose: (_value, key, reason) => evicted.push([key, reason]),
    });
    for (const key of ["a", "b", "c"]) cache.set(key, 1);
    cache.get("a"); // b is now the least recently used
    cache.set("d", 1);
    expect([...cache.keys()].sort()).toEqual(["a", "c", "d"]);
    expect(evicted).toEqual([["b", "evict"]]);
    cache.set("e", 1);
    expect(cache.has("c")).toBe(false);
    expect(cache.size).toBe(3);
  });

  it("also honours maxSize when given, whichever bound is reached first", () => {
    const cache = new GrowingLru<string, string>(100, {
      maxSize: 10,
      sizeCalculation: (value) => value.length,
    });
    for (const key of ["a", "b", "c", "d"]) cache.set(key, "xxx"); // 12 > 10: a goes
    expect([...cache.keys()].sort()).toEqual(["b", "c", "d"]);
    const counted = new GrowingLru<string, string>(2, { maxSize: 1_000, sizeCalculation: () => 1 });
    for (const key of ["a", "b", "c"]) counted.set(key, "x");
    expect([...counted.keys()].sort()).toEqual(["b", "c"]);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new GrowingLru(0)).toThrow(/maxEntries must be a positive integer, got 0/);
    expect(() => new GrowingLru(1.5)).toThrow(/got 1.5/);
  });

  it("allocates nothing up front, where lru-cache with max fills its arrays for max entries", () => {
    const count = 200_000;
    const keep: unknown[] = [];
    const before = heapAndBuffers();
    for (let i = 0; i < 5; i++) keep.push(new GrowingLru<string, string>(count, { maxSize: 1e6 }));
    const growing = heapAndBuffers() - before;
    const middle = heapAndBuffers();
    for (let i = 0; i < 5; i++)
      keep.push(
        new LRUCache<string, string>({ max: count, maxSize: 1e6, sizeCalculation: () => 1 }),
      );
    const preallocated = heapAndBuffers() - middle;
    // lru-cache: keys and values (8 bytes a slot), links and sizes for each of 200k slots
    expect(preallocated).toBeGreaterThan(5 * count * 16);
    expect(growing).toBeLessThan(preallocated / 20);
    expect(keep).toHaveLength(10);
  });
});
