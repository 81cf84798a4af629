import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalDirectoryStorage } from "@reco/storage";
import { createScorer } from "../onnx/scorer.ts";
import { randomFactorParams, randomHistory } from "../onnx/random-params.ts";
import type { IdMaps } from "../params.ts";
import { ArtifactCorrupt, ModelVersionMissing, VersionExists } from "./errors.ts";
import { publishVersion } from "./store.ts";
import { fetchVersion, nextStoredVersion, parseStoredVersion, uploadVersion } from "./remote.ts";

const N_USERS = 12;
const N_ITEMS = 40;
const idMaps: IdMaps = {
  users: Array.from({ length: N_USERS }, (_, u) => `u${u}`),
  items: Array.from({ length: N_ITEMS }, (_, i) => `i${i}`),
};
let root: string;
let published: Awaited<ReturnType<typeof publishVersion>>;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "reco-remote-"));
  published = await publishVersion({
    registryDir: path.join(root, "registry"),
    name: "demo",
    algorithm: "ials",
    params: randomFactorParams(N_USERS, N_ITEMS, 4),
    idMaps,
    trainHistory: randomHistory(N_USERS, N_ITEMS, 5),
    data: {
      source: "fixture",
      from: null,
      to: null,
      nUsers: N_USERS,
      nItems: N_ITEMS,
      nInteractions: 60,
    },
    now: new Date("2026-01-02T03:04:05Z"),
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
async function freshBucket(): Promise<LocalDirectoryStorage> {
  return new LocalDirectoryStorage(await mkdtemp(path.join(root, "bucket-")));
}

describe("registry versions in object storage", () => {
  it("uploads every file with the manifest, pins the manifest's sha256, and fetches a verified copy once", async () => {
    const bucket = await freshBucket();
    const artifactPath = await uploadVersion(bucket, published.dir, published.metadata);
    const manifest = await readFile(path.join(published.dir, "metadata.json"));
    expect(artifactPath).toBe(`object:registry/demo/v1#sha256=${sha(manifest)}`);
    expect((await bucket.list("registry/")).map((o) => o.key)).toEqual([
      "registry/demo/v1/MODEL_CARD.md",
      "registry/demo/v1/id-maps.json",
      "registry/demo/v1/metadata.json",
      "registry/demo/v1/model.onnx",
      "registry/demo/v1/train-history.bin",
    ]);
    const cache = await mkdtemp(path.join(root, "cache-"));
    const dir = await fetchVersion(bucket, artifactPath, cache);
    expect(dir).toBe(path.join(cache, "demo", "v1"));
    for (const file of await readdir(published.dir))
      expect(sha(await readFile(path.join(dir, file))), file).toBe(
        sha(await readFile(path.join(published.dir, file))),
      );
    const scorer = await createScorer(dir);
    expect(scorer.version).toBe("v1");
    await scorer.release();
    // fetched once: with the bucket emptied the cached copy still answers
    for (const o of await bucket.list("")) await bucket.delete(o.key);
    expect(await fetchVersion(bucket, artifactPath, cache)).toBe(dir);
    expect((await readdir(path.join(cache, "demo"))).sort()).toEqual(["v1"]);
  });

  it("refuses a corrupted object by its checksum and leaves nothing in the cache", async () => {
    const bucket = await freshBucket();
    const artifactPath = await uploadVersion(bucket, published.dir, published.metadata);
    const model = (await bucket.get("registry/demo/v1/model.onnx"))!;
    model[Math.floor(model.length / 2)]! ^= 0x01;
    await bucket.put("registry/demo/v1/model.onnx", model);
    const cache = await mkdtemp(path.join(root, "cache-"));
    const error = await fetchVersion(bucket, artifactPath, cache).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactCorrupt);
    expect((error as Error).message).toMatch(/model\.onnx sha256 [0-9a-f]{64} ≠ recorded/);
    expect((error as Error).message).toContain("registry/demo/v1/");
    expect(await readdir(path.join(cache, "demo"))).toEqual([]);
  });

  it("refuses a manifest that is not the one the version row pinned", async () => {
    const bucket = await freshBucket();
    const artifactPath = await uploadVersion(bucket, published.dir, published.metadata);
    const text = Buffer.from((await bucket.get("registry/demo/v1/metadata.json"))!).toString();
    // a consistent but different manifest: its files still match it, only the row's pin catches it
    const other = text.replace('"algorithm": "ials"', '"algorithm": "als"');
    expect(other).not.toBe(text);
    await bucket.put("registry/demo/v1/metadata.json", other);
    await expect(
      fetchVersion(bucket, artifactPath, await mkdtemp(path.join(root, "cache-"))),
    ).rejects.toThrow(
      /metadata\.json sha256 [0-9a-f]{64} ≠ [0-9a-f]{64} recorded by the version row/,
    );
  });

  it("a crash mid-upload (files without the manifest) is a missing version, a missing file is corrupt", async () => {
    const bucket = await freshBucket();
    const artifactPath = await uploadVersion(bucket, published.dir, published.metadata);
    const manifest = (await bucket.get("registry/demo/v1/metadata.json"))!;
    await bucket.delete("registry/demo/v1/metadata.json");
    await expect(
      fetchVersion(bucket, artifactPath, await mkdtemp(path.join(root, "cache-"))),
    ).rejects.toBeInstanceOf(ModelVersionMissing);
    // the next upload of v1 is allowed, the manifest being what makes a version exist
    expect(await nextStoredVersion(bucket, "demo")).toBe("v1");
    await bucket.put("registry/demo/v1/metadata.json", manifest);
    expect(await nextStoredVersion(bucket, "demo")).toBe("v2");
    await bucket.delete("registry/demo/v1/id-maps.json");
    await expect(
      fetchVersion(bucket, artifactPath, await mkdtemp(path.join(root, "cache-"))),
    ).rejects.toThrow(/id-maps\.json is missing from the bucket/);
  });

  it("versions are immutable in the bucket, and paths are checked", async () => {
    const bucket = await freshBucket();
    await uploadVersion(bucket, published.dir, published.metadata);
    await expect(uploadVersion(bucket, published.dir, published.metadata)).rejects.toBeInstanceOf(
      VersionExists,
    );
    expect(() => parseStoredVersion("/data/registry/demo/v1")).toThrow(/not an object-storage/);
    expect(() => parseStoredVersion("object:registry/demo/v1#sha256=abc")).toThrow(
      /not an object-storage/,
    );
    expect(() => parseStoredVersion(`object:registry/..%2f/v1#sha256=${"0".repeat(64)}`)).toThrow(
      /model name/,
    );
  });

  it("a cached copy of another manifest under the same label is replaced, not served", async () => {
    const bucket = await freshBucket();
    const artifactPath = await uploadVersion(bucket, published.dir, published.metadata);
    const cache = await mkdtemp(path.join(root, "cache-"));
    const dir = await fetchVersion(bucket, artifactPath, cache);
    await writeFile(path.join(dir, "metadata.json"), "{}");
    expect(await fetchVersion(bucket, artifactPath, cache)).toBe(dir);
    expect(sha(await readFile(path.join(dir, "metadata.json")))).toBe(
      parseStoredVersion(artifactPath).manifestSha256,
    );
  });
});
