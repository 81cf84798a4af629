import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStorage } from "./port.ts";

export interface StorageContractOptions {
  /** A storage whose keys under the returned namespace start empty (a fresh dir or key prefix). */
  makeStorage: () => Promise<ObjectStorage>;
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");

/** The one behaviour every object-storage adapter must show; each adapter's test file runs it. */
export function runStorageContract(adapterName: string, options: StorageContractOptions): void {
  describe(`object storage contract: ${adapterName}`, () => {
    let storage: ObjectStorage;
    let scratch: string;
    beforeAll(async () => {
      storage = await options.makeStorage();
      scratch = await mkdtemp(path.join(tmpdir(), "storage-contract-"));
    });
    afterAll(async () => {
      await storage.close();
      await rm(scratch, { recursive: true, force: true });
    });

    it("an absent key: get and head answer undefined, getToFile false, delete is a no-op", async () => {
      expect(await storage.get("absent/key.bin")).toBeUndefined();
      expect(await storage.head("absent/key.bin")).toBeUndefined();
      const target = path.join(scratch, "absent.bin");
      expect(await storage.getToFile("absent/key.bin", target)).toBe(false);
      await expect(readFile(target)).rejects.toThrow(/ENOENT/);
      await storage.delete("absent/key.bin");
      expect(await storage.list("absent/")).toEqual([]);
    });

    it("round-trips bytes and text exactly, with their size in head", async () => {
      const bytes = new Uint8Array([0, 255, 10, 13, 0, 1, 2]);
      await storage.put("rt/bytes.bin", bytes);
      expect(await storage.get("rt/bytes.bin")).toEqual(bytes);
      expect(await storage.head("rt/bytes.bin")).toEqual({ key: "rt/bytes.bin", bytes: 7 });
      await storage.put("rt/text.json", '{"ü":"✓"}');
      expect(text(await storage.get("rt/text.json"))).toBe('{"ü":"✓"}');
      // 7 ASCII characters, "ü" 2 bytes and "✓" 3 in UTF-8: the size is in bytes, not characters
      expect((await storage.head("rt/text.json"))?.bytes).toBe(12);
      await storage.put("rt/empty", new Uint8Array(0));
      expect(await storage.get("rt/empty")).toEqual(new Uint8Array(0));
      expect((await storage.head("rt/empty"))?.bytes).toBe(0);
    });

    it("a put replaces the whole object, a longer one by a shorter one too", async () => {
      await storage.put("over/x", "a much longer first body");
      await storage.put("over/x", "short");
      expect(text(await storage.get("over/x"))).toBe("short");
      expect((await storage.head("over/x"))?.bytes).toBe(5);
    });

    it("lists by string prefix, sorted by key, without objects outside it", async () => {
      for (const key of ["ls/b/2", "ls/a/1", "ls/a/10", "ls/ab", "lsx/1", "ls/a/9/deep"])
        await storage.put(key, key);
      expect((await storage.list("ls/a/")).map((o) => o.key)).toEqual([
        "ls/a/1",
        "ls/a/10",
        "ls/a/9/deep",
      ]);
      expect((await storage.list("ls/a")).map((o) => o.key)).toEqual([
        "ls/a/1",
        "ls/a/10",
        "ls/a/9/deep",
        "ls/ab",
      ]);
      expect((await storage.list("ls/a/1")).map((o) => o.key)).toEqual(["ls/a/1", "ls/a/10"]);
      expect(await storage.list("ls/b/")).toEqual([{ key: "ls/b/2", bytes: 6 }]);
      expect(await storage.list("ls/none/")).toEqual([]);
      const all = (await storage.list("")).map((o) => o.key);
      expect(all).toContain("lsx/1");
      expect(all).toEqual([...all].sort());
    });

    it("delete removes one object and leaves its neighbours", async () => {
      await storage.put("del/a", "1");
      await storage.put("del/b", "2");
      await storage.delete("del/a");
      expect(await storage.get("del/a")).toBeUndefined();
      expect(await storage.head("del/a")).toBeUndefined();
      expect((await storage.list("del/")).map((o) => o.key)).toEqual(["del/b"]);
      await storage.delete("del/a");
    });

    it("streams a multi-megabyte file in and out unchanged", async () => {
      const body = randomBytes(6 * 1024 * 1024 + 17);
      const source = path.join(scratch, "big.in");
      await writeFile(source, body);
      await storage.putFile("big/model.onnx", source);
      expect((await storage.head("big/model.onnx"))?.bytes).toBe(body.byteLength);
      const target = path.join(scratch, "nested", "big.out");
      expect(await storage.getToFile("big/model.onnx", target)).toBe(true);
      expect(sha(await readFile(target))).toBe(sha(body));
      expect(sha((await storage.get("big/model.onnx"))!)).toBe(sha(body));
    });

    it("a reader racing an overwrite sees the old object or the new one, in full", async () => {
      const first = randomBytes(2 * 1024 * 1024);
      const second = randomBytes(3 * 1024 * 1024);
      const known = new Set([sha(first), sha(second)]);
      await storage.put("race/obj", first);
      const writes = (async () => {
        for (let i = 0; i < 4; i++) await storage.put("race/obj", i % 2 ? first : second);
      })();
      const seen: string[] = [];
      let writing = true;
      void writes.finally(() => (writing = false));
      while (writing || seen.length < 3) {
        const got = await storage.get("race/obj");
        expect(got).toBeDefined();
        seen.push(sha(got!));
      }
      await writes;
      for (const digest of seen) expect(known.has(digest)).toBe(true);
    });

    it("refuses keys that could escape or collide, naming the key", async () => {
      for (const bad of ["", "/abs", "a//b", "../up", "a/../b", "a/.hidden", "a/", "sp ace"]) {
        await expect(storage.put(bad, "x"), bad).rejects.toThrow(/object key/);
        await expect(storage.get(bad), bad).rejects.toThrow(JSON.stringify(bad));
      }
      await expect(storage.list("../")).rejects.toThrow(/list prefix/);
    });
  });
}
