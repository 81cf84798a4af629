import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Cache } from "./port.ts";

export interface CacheContractOptions {
  /** Builds a fresh, empty cache with `maxValueBytes` = 4096 and no default TTL. */
  makeCache: () => Promise<Cache>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The one behaviour every cache adapter must show; each adapter's test file runs it. */
export function runCacheContract(adapterName: string, { makeCache }: CacheContractOptions): void {
  describe(`cache contract: ${adapterName}`, () => {
    let cache: Cache;
    beforeEach(async () => {
      cache = await makeCache();
    });
    afterEach(async () => {
      await cache.close();
    });

    it("returns undefined for a key never set", async () => {
      expect(await cache.get("absent")).toBeUndefined();
    });

    it("round-trips JSON values of every shape", async () => {
      const values: unknown[] = [
        { items: [{ itemId: "1", score: 0.5 }], nested: { a: [1, 2, { b: null }] } },
        [1, "two", true, null],
        "plain string with unicode ✓ and \u0000 control",
        42.125,
        0,
        false,
        null,
      ];
      for (const [index, value] of values.entries()) {
        expect(await cache.set(`v:${index}`, value)).toBe(true);
        expect(await cache.get(`v:${index}`)).toEqual(value);
      }
    });

    it("stores text as it is: no JSON on the way in or out, same TTL and size rules", async () => {
      const text = 'not JSON {"a":1}\n✓ \u0000';
      expect(await cache.setText("t:1", text, { ttlMs: 150 })).toBe(true);
      expect(await cache.getText("t:1")).toBe(text);
      expect(await cache.getText("t:absent")).toBeUndefined();
      // text set as JSON reads back through get
      await cache.setText("t:json", '{"n":1}');
      expect(await cache.get("t:json")).toEqual({ n: 1 });
      expect(await cache.setText("t:big", "x".repeat(8192))).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await cache.getText("t:1")).toBeUndefined();
      await expect(cache.setText("t:2", 5 as unknown as string)).rejects.toThrow(/string/);
    });

    it("deletes a tag's entries only, whichever way they were set", async () => {
      await cache.setText("u1:a", "1", { tag: "user:1" });
      await cache.set("u1:b", { n: 2 }, { tag: "user:1", ttlMs: 60_000 });
      await cache.setText("u2:a", "3", { tag: "user:2" });
      await cache.setText("untagged", "4");
      expect(await cache.deleteTag("user:1")).toBe(2);
      expect(await cache.getText("u1:a")).toBeUndefined();
      expect(await cache.get("u1:b")).toBeUndefined();
      expect(await cache.getText("u2:a")).toBe("3");
      expect(await cache.getText("untagged")).toBe("4");
      expect(await cache.deleteTag("user:1")).toBe(0);
      // tagged again after a delete: the tag works again
      await cache.setText("u1:a", "6", { tag: "user:1" });
      expect(await cache.deleteTag("user:1")).toBe(1);
      expect(await cache.deleteTag("user:2")).toBe(1);
      await expect(cache.setText("k", "v", { tag: "" })).rejects.toThrow(/tag/);
    });

    it("an entry re-set under another tag goes with the new tag (the old one may take it too)", async () => {
      await cache.setText("moved", "5", { tag: "a" });
      await cache.setText("moved", "5", { tag: "b" });
      expect(await cache.deleteTag("b")).toBe(1);
      expect(await cache.getText("moved")).toBeUndefined();
    });

    it("stores a copy: mutating the original or a read value does not change the stored one", async () => {
      const value = { list: [1, 2] };
      await cache.set("copy", value);
      value.list.push(3);
      const read = await cache.get<{ list: number[] }>("copy");
      read!.list.push(4);
      expect(await cache.get("copy")).toEqual({ list: [1, 2] });
    });

    it("overwrites an existing key", async () => {
      await cache.set("k", { n: 1 });
      await cache.set("k", { n: 2 });
      expect(await cache.get("k")).toEqual({ n: 2 });
    });

    it("expires an entry after its TTL and keeps it before", async () => {
      await cache.set("short", "x", { ttlMs: 150 });
      await cache.set("long", "y", { ttlMs: 60_000 });
      expect(await cache.get("short")).toBe("x");
      await sleep(400);
      expect(await cache.get("short")).toBeUndefined();
      expect(await cache.get("long")).toBe("y");
    });

    it("a new set resets the TTL", async () => {
      await cache.set("t", 1, { ttlMs: 150 });
      await cache.set("t", 2, { ttlMs: 60_000 });
      await sleep(300);
      expect(await cache.get("t")).toBe(2);
    });

    it("deletes one key and reports whether it existed", async () => {
      await cache.set("a", 1);
      await cache.set("b", 2);
      expect(await cache.delete("a")).toBe(true);
      expect(await cache.delete("a")).toBe(false);
      expect(await cache.get("a")).toBeUndefined();
      expect(await cache.get("b")).toBe(2);
    });

    it("deletes by prefix, only keys that start with it, and counts them", async () => {
      for (let i = 0; i < 25; i += 1) await cache.set(`rec:u1:${i}`, i);
      await cache.set("rec:u10:0", "other user whose id shares a prefix digit");
      await cache.set("rec:u2:0", "other user");
      await cache.set("xrec:u1:0", "prefix only in the middle");
      expect(await cache.deleteByPrefix("rec:u1:")).toBe(25);
      expect(await cache.get("rec:u1:0")).toBeUndefined();
      expect(await cache.get("rec:u1:24")).toBeUndefined();
      expect(await cache.get("rec:u10:0")).toBe("other user whose id shares a prefix digit");
      expect(await cache.get("rec:u2:0")).toBe("other user");
      expect(await cache.get("xrec:u1:0")).toBe("prefix only in the middle");
      expect(await cache.deleteByPrefix("rec:u1:")).toBe(0);
    });

    it("treats glob characters in a prefix literally", async () => {
      await cache.set("g:*:1", "star");
      await cache.set("g:a:1", "letter");
      await cache.set("g:[ab]:1", "brackets");
      expect(await cache.deleteByPrefix("g:*")).toBe(1);
      expect(await cache.deleteByPrefix("g:[ab]")).toBe(1);
      expect(await cache.get("g:a:1")).toBe("letter");
    });

    it("refuses a value over maxValueBytes, and the refused overwrite removes the old value", async () => {
      await cache.set("big", "small");
      expect(await cache.set("big", "x".repeat(8192))).toBe(false);
      expect(await cache.get("big")).toBeUndefined();
      expect(await cache.set("fits", "x".repeat(1000))).toBe(true);
    });

    it("rejects bad keys, bad TTLs and non-JSON values with a clear error", async () => {
      await expect(cache.set("", 1)).rejects.toThrow(/key must be a non-empty string/);
      await expect(cache.set("k", 1, { ttlMs: 0 })).rejects.toThrow(
        /ttlMs must be a positive integer/,
      );
      await expect(cache.set("k", 1, { ttlMs: 1.5 })).rejects.toThrow(/ttlMs/);
      await expect(cache.set("k", undefined)).rejects.toThrow(/JSON-serialisable/);
      await expect(cache.set("k", 10n)).rejects.toThrow();
      await expect(cache.deleteByPrefix("")).rejects.toThrow(/non-empty/);
    });

    describe("bounded lists", () => {
      it("push values to the front, newest first, and keep only the newest maxLength", async () => {
        expect(await cache.getList("l:absent")).toEqual([]);
        await cache.pushLists([{ key: "l:1", values: ["a", "b"] }], { maxLength: 4 });
        await cache.pushLists([{ key: "l:1", values: ["c", "d", "e"] }], { maxLength: 4 });
        expect(await cache.getList("l:1")).toEqual(["e", "d", "c", "b"]);
        // More values than fit at once: only the newest can stay.
        await cache.pushLists([{ key: "l:2", values: [1, 2, 3, 4, 5, 6] }], { maxLength: 3 });
        expect(await cache.getList("l:2")).toEqual([6, 5, 4]);
      });

      it("take values already encoded as JSON, in the same lists as pushLists, bounded alike", async () => {
        await cache.pushLists([{ key: "l:x", values: [{ n: 1 }] }], { maxLength: 3 });
        await cache.pushListTexts(
          [
            { key: "l:x", texts: ['{"n":2}', '"three"'] },
            { key: "l:y", texts: ["4", "5", "6", "7"] },
            { key: "l:z", texts: [] },
          ],
          { maxLength: 3 },
        );
        expect(await cache.getList("l:x")).toEqual(["three", { n: 2 }, { n: 1 }]);
        await cache.pushListTexts([{ key: "l:x", texts: ["null"] }], { maxLength: 3 });
        expect(await cache.getList("l:x")).toEqual([null, "three", { n: 2 }]);
        expect(await cache.getList("l:y")).toEqual([7, 6, 5]);
        expect(await cache.getList("l:z")).toEqual([]);
        // Enough keys for several script calls in flight at once: each lands, in order.
        const many = Array.from({ length: 2_600 }, (_, i) => ({
          key: `l:m${i % 1_300}`,
          texts: [String(i)],
        }));
        await cache.pushListTexts(many, { maxLength: 5 });
        for (const i of [0, 499, 500, 1_299])
          expect(await cache.getList(`l:m${i}`)).toEqual([i + 1_300, i]);
        await expect(
          cache.pushListTexts([{ key: "l:b", texts: [7 as unknown as string] }], { maxLength: 3 }),
        ).rejects.toThrow(/string/);
        await expect(
          cache.pushListTexts([{ key: "", texts: ["1"] }], { maxLength: 3 }),
        ).rejects.toThrow(/non-empty/);
      });

      it("take texts packed in one buffer, to the same lists as pushListTexts, bounded alike", async () => {
        const packed = (entries: { key: string; texts: string[] }[]) => {
          const texts = entries.flatMap((entry) => entry.texts);
          const encoded = texts.map((text) => Buffer.from(text));
          const textEnds = new Int32Array(texts.length);
          const keyEnds = new Int32Array(entries.length);
          let at = 0;
          encoded.forEach((bytes, t) => (textEnds[t] = at += bytes.length));
          let row = 0;
          entries.forEach((entry, k) => (keyEnds[k] = row += entry.texts.length));
          // Inside a larger buffer, as a view handed over from another thread may be.
          const buffer = new Uint8Array(at + 8);
          buffer.set(Buffer.concat(encoded), 3);
          return {
            keys: entries.map((entry) => entry.key),
            keyEnds,
            bytes: buffer.subarray(3, 3 + at),
            textEnds,
          };
        };
        await cache.pushLists([{ key: "p:x", values: [{ n: 1 }] }], { maxLength: 3 });
        await cache.pushPackedListTexts(
          packed([
            { key: "p:x", texts: ['{"n":2}', '"thrée ✓"'] },
            { key: "p:e", texts: [] },
            { key: "p:y", texts: ["4", "5", "6", "7"] },
            { key: "p:x", texts: ["null"] },
          ]),
          { maxLength: 3 },
        );
        expect(await cache.getList("p:x")).toEqual([null, "thrée ✓", { n: 2 }]);
        expect(await cache.getList("p:y")).toEqual([7, 6, 5]);
        expect(await cache.getList("p:e")).toEqual([]);
        // A value under a key is replaced by the list, as with pushListTexts.
        await cache.set("p:v", { old: true });
        await cache.pushPackedListTexts(packed([{ key: "p:v", texts: ['"new"'] }]), {
          maxLength: 3,
        });
        expect(await cache.getList("p:v")).toEqual(["new"]);
        // Several script calls in flight, and more texts for one key than Lua's stack takes at once.
        const many = Array.from({ length: 1_300 }, (_, i) => ({
          key: `p:m${i}`,
          texts: [String(i), String(i + 1_300)],
        }));
        many.push({ key: "p:long", texts: Array.from({ length: 20_000 }, (_, i) => String(i)) });
        await cache.pushPackedListTexts(packed(many), { maxLength: 5 });
        for (const i of [0, 499, 500, 1_299])
          expect(await cache.getList(`p:m${i}`)).toEqual([i + 1_300, i]);
        expect(await cache.getList("p:long")).toEqual([19_999, 19_998, 19_997, 19_996, 19_995]);
        const bad = packed([{ key: "p:b", texts: ["1", "2"] }]);
        await expect(
          cache.pushPackedListTexts({ ...bad, textEnds: Int32Array.of(1, 5) }, { maxLength: 3 }),
        ).rejects.toThrow(/textEnds\[1\]/);
        await expect(
          cache.pushPackedListTexts({ ...bad, keyEnds: Int32Array.of(3) }, { maxLength: 3 }),
        ).rejects.toThrow(/keyEnds\[0\]/);
        await expect(
          cache.pushPackedListTexts({ ...bad, keys: [""] }, { maxLength: 3 }),
        ).rejects.toThrow(/non-empty/);
        expect(await cache.getList("p:b")).toEqual([]);
      });

      it("push to many keys in one call, as JSON copies; empty pushes change nothing", async () => {
        const at = new Date("2026-01-05T10:00:00Z");
        const item = { itemId: "i1", at };
        await cache.pushLists(
          Array.from({ length: 1_200 }, (_, i) => ({ key: `l:u${i}`, values: [{ n: i }, item] })),
          { maxLength: 50 },
        );
        item.itemId = "changed";
        for (const i of [0, 499, 500, 1_199])
          expect(await cache.getList(`l:u${i}`)).toEqual([
            { itemId: "i1", at: at.toISOString() },
            { n: i },
          ]);
        await cache.pushLists([{ key: "l:u0", values: [] }], { maxLength: 50 });
        expect(await cache.getList("l:u0")).toHaveLength(2);
      });

      it("expire after their TTL, restarted by each push; delete and deleteByPrefix remove them", async () => {
        await cache.pushLists([{ key: "l:t", values: ["x"] }], { maxLength: 5, ttlMs: 300 });
        await sleep(150);
        await cache.pushLists([{ key: "l:t", values: ["y"] }], { maxLength: 5, ttlMs: 300 });
        await sleep(200);
        expect(await cache.getList("l:t")).toEqual(["y", "x"]);
        await sleep(250);
        expect(await cache.getList("l:t")).toEqual([]);
        await cache.pushLists([{ key: "l:d", values: [1] }], { maxLength: 5 });
        expect(await cache.delete("l:d")).toBe(true);
        expect(await cache.getList("l:d")).toEqual([]);
        await cache.pushLists([{ key: "l:p:1", values: [1] }], { maxLength: 5 });
        await cache.set("l:p:2", 2);
        expect(await cache.deleteByPrefix("l:p:")).toBe(2);
      });

      it("replace a value under the same key, and are replaced by a value", async () => {
        await cache.set("l:v", { old: true });
        expect(await cache.getList("l:v")).toEqual([]);
        await cache.pushLists([{ key: "l:v", values: ["new"] }], { maxLength: 5 });
        expect(await cache.getList("l:v")).toEqual(["new"]);
        expect(await cache.get("l:v")).toBeUndefined();
        await cache.set("l:v", 7);
        expect(await cache.get("l:v")).toBe(7);
        expect(await cache.getList("l:v")).toEqual([]);
      });

      it("refuse a bad length, TTL or key with a clear error", async () => {
        const push = (maxLength: number, ttlMs?: number, key = "l:bad") =>
          cache.pushLists([{ key, values: [1] }], { maxLength, ttlMs });
        await expect(push(0)).rejects.toThrow(/maxLength must be a positive integer/);
        await expect(push(2.5)).rejects.toThrow(/maxLength/);
        await expect(push(3, -1)).rejects.toThrow(/ttlMs/);
        await expect(push(3, undefined, "")).rejects.toThrow(/non-empty/);
        await expect(cache.getList("")).rejects.toThrow(/non-empty/);
      });
    });

    describe("sets", () => {
      it("add members to many keys at once, each member once, read back whole", async () => {
        await cache.addToSets(
          [
            { key: "s:u1", members: ["a", "b", "a"] },
            { key: "s:u2", members: ["x"] },
            { key: "s:empty", members: [] },
          ],
          { ttlMs: 60_000 },
        );
        await cache.addToSets([{ key: "s:u1", members: ["c", "b", "✓ \u0000"] }]);
        expect((await cache.getSet("s:u1")).sort()).toEqual(["a", "b", "c", "✓ \u0000"].sort());
        expect(await cache.getSet("s:u2")).toEqual(["x"]);
        expect(await cache.getSet("s:empty")).toEqual([]);
        expect(await cache.getSet("s:absent")).toEqual([]);
        const many = Array.from({ length: 1_200 }, (_, i) => ({
          key: `s:m${i}`,
          members: [`i${i}`],
        }));
        await cache.addToSets(many);
        for (const i of [0, 499, 500, 1_199])
          expect(await cache.getSet(`s:m${i}`)).toEqual([`i${i}`]);
      });

      it("expire after their TTL, restarted by each add; delete removes them", async () => {
        await cache.addToSets([{ key: "s:t", members: ["x"] }], { ttlMs: 300 });
        await sleep(150);
        await cache.addToSets([{ key: "s:t", members: ["y"] }], { ttlMs: 300 });
        await sleep(200);
        expect((await cache.getSet("s:t")).sort()).toEqual(["x", "y"]);
        await sleep(250);
        expect(await cache.getSet("s:t")).toEqual([]);
        await cache.addToSets([{ key: "s:d", members: ["1"] }]);
        expect(await cache.delete("s:d")).toBe(true);
        expect(await cache.getSet("s:d")).toEqual([]);
      });

      it("replace a value under the same key; a value read from a set key is a miss", async () => {
        await cache.set("s:v", { old: true });
        expect(await cache.getSet("s:v")).toEqual([]);
        await cache.addToSets([{ key: "s:v", members: ["new"] }]);
        expect(await cache.getSet("s:v")).toEqual(["new"]);
        expect(await cache.get("s:v")).toBeUndefined();
      });

      it("refuse a bad key, TTL or member with a clear error", async () => {
        await expect(cache.addToSets([{ key: "", members: ["a"] }])).rejects.toThrow(/non-empty/);
        await expect(
          cache.addToSets([{ key: "s:b", members: ["a"] }], { ttlMs: 0 }),
        ).rejects.toThrow(/ttlMs/);
        await expect(
          cache.addToSets([{ key: "s:b", members: [1 as unknown as string] }]),
        ).rejects.toThrow(/strings/);
        await expect(cache.getSet("")).rejects.toThrow(/non-empty/);
      });
    });

    describe("token buckets", () => {
      it("allow a burst, refuse beyond it with the wait, refill at the rate, per key", async () => {
        const bucket = { ratePerSecond: 5, burst: 3 };
        const taken = [];
        for (let i = 0; i < 4; i += 1) taken.push(await cache.takeToken("k:a", bucket));
        expect(taken.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
        expect(taken[0]!.retryAfterMs).toBe(0);
        // one token comes back in 200 ms at 5/s
        expect(taken[3]!.retryAfterMs).toBeGreaterThan(0);
        expect(taken[3]!.retryAfterMs).toBeLessThanOrEqual(200);
        expect((await cache.takeToken("k:b", bucket)).allowed).toBe(true);
        await sleep(260);
        expect((await cache.takeToken("k:a", bucket)).allowed).toBe(true);
        expect((await cache.takeToken("k:a", bucket)).allowed).toBe(false);
      });

      it("count concurrent takes exactly: a burst of 10 lets 10 of 30 through", async () => {
        const bucket = { ratePerSecond: 0.01, burst: 10 };
        const decisions = await Promise.all(
          Array.from({ length: 30 }, () => cache.takeToken("k:concurrent", bucket)),
        );
        expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
      });

      it("keep buckets apart from values under the same key", async () => {
        await cache.set("k:shared", 1);
        expect((await cache.takeToken("k:shared", { ratePerSecond: 1, burst: 1 })).allowed).toBe(
          true,
        );
        expect(await cache.get("k:shared")).toBe(1);
      });

      it("refuse a bad rate, burst or key with a clear error", async () => {
        await expect(cache.takeToken("k", { ratePerSecond: 0, burst: 1 })).rejects.toThrow(
          /ratePerSecond/,
        );
        await expect(cache.takeToken("k", { ratePerSecond: 1, burst: 0.5 })).rejects.toThrow(
          /burst/,
        );
        await expect(cache.takeToken("", { ratePerSecond: 1, burst: 1 })).rejects.toThrow(
          /non-empty/,
        );
      });
    });

    it("serves many concurrent operations consistently", async () => {
      await Promise.all(Array.from({ length: 200 }, (_, i) => cache.set(`c:${i}`, { i })));
      const read = await Promise.all(
        Array.from({ length: 200 }, (_, i) => cache.get<{ i: number }>(`c:${i}`)),
      );
      expect(read.map((value) => value?.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    });
  });
}
