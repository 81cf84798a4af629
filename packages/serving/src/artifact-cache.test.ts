import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArtifactCorrupt,
  LogBuilder,
  buildInteractions,
  fitModel,
  publishVersion,
  uploadVersion,
} from "@reco/ml";
import { LocalDirectoryStorage, type ObjectStorage } from "@reco/storage";
import { ArtifactCache, type RefusedVersion, VerifiedModelResolver } from "./artifact-cache.ts";
import type { ModelRef } from "./model-pool.ts";
import type { ModelResolution, ModelResolver } from "./resolver.ts";

let root: string;
let bucket: LocalDirectoryStorage;
/** artifactPath of each version in the bucket; v2's model.onnx is corrupted after upload */
const stored: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "artifact-cache-"));
  bucket = new LocalDirectoryStorage(path.join(root, "bucket"));
  const log = new LogBuilder();
  for (let u = 0; u < 10; u++)
    for (let i = 0; i < 4; i++) log.add(`u${u}`, `i${(u + i) % 12}`, 1, 0);
  const train = buildInteractions(log.finish());
  for (const version of ["v1", "v2", "v3"]) {
    const { model } = await fitModel("ials", train, { factors: 2, epochs: 1, threads: 0 });
    const { dir, metadata } = await publishVersion({
      registryDir: path.join(root, "staging"),
      name: "m",
      version,
      algorithm: "ials",
      params: model,
      idMaps: train.ids,
      data: { source: "t", from: null, to: null, nUsers: 10, nItems: 12, nInteractions: 40 },
    });
    stored[version] = await uploadVersion(bucket, dir, metadata);
  }
  const model = (await bucket.get("registry/m/v2/model.onnx"))!;
  model[10]! ^= 0xff;
  await bucket.put("registry/m/v2/model.onnx", model);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Counts the objects read, to tell a fetch from a cache hit. */
function counting(storage: ObjectStorage): ObjectStorage & { reads: number } {
  const wrapper = Object.create(storage) as ObjectStorage & { reads: number };
  wrapper.reads = 0;
  wrapper.get = async (key) => (wrapper.reads++, storage.get(key));
  wrapper.getToFile = async (key, file) => (wrapper.reads++, storage.getToFile(key, file));
  return wrapper;
}

class SwitchableResolver implements ModelResolver {
  constructor(public ref: ModelRef | null) {}
  async resolve(): Promise<ModelResolution> {
    return { ref: this.ref };
  }
}

const ref = (version: string): ModelRef => ({ name: "m", version, artifactPath: stored[version]! });
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const request = { userId: "u1", context: {} } as Parameters<ModelResolver["resolve"]>[0];

describe("versions in object storage behind the resolver", () => {
  it("fetches a version once, keeps the last verified one while a new one downloads and when it is refused", async () => {
    const storage = counting(bucket);
    const cacheDir = await mkdtemp(path.join(root, "cache-"));
    const cache = new ArtifactCache({ storage, cacheDir, retryAfterMs: 60_000 });
    const inner = new SwitchableResolver(ref("v1"));
    const refusals: RefusedVersion[] = [];
    const resolver = new VerifiedModelResolver(inner, cache, (r) => refusals.push(r));

    const first = await resolver.resolve(request);
    expect(first.ref).toEqual({ ...ref("v1"), artifactPath: path.join(cacheDir, "m", "v1") });
    const readsForV1 = storage.reads;
    expect(readsForV1).toBe(4); // manifest, model, id maps, card: no train history in this version
    expect((await resolver.resolve(request)).ref).toEqual(first.ref);
    expect(storage.reads).toBe(readsForV1);

    inner.ref = ref("v2"); // corrupted in the bucket
    expect((await resolver.resolve(request)).ref).toEqual(first.ref);
    await settle();
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.ref).toEqual(ref("v2"));
    expect(refusals[0]!.keptServing).toEqual(first.ref);
    expect(refusals[0]!.error).toBeInstanceOf(ArtifactCorrupt);
    expect((refusals[0]!.error as Error).message).toMatch(/model\.onnx sha256/);
    const readsAfterRefusal = storage.reads;
    for (let i = 0; i < 3; i++) expect((await resolver.resolve(request)).ref).toEqual(first.ref);
    await settle();
    expect(storage.reads).toBe(readsAfterRefusal); // not fetched again within retryAfterMs
    expect(refusals).toHaveLength(1); // and told once

    inner.ref = ref("v3");
    expect((await resolver.resolve(request)).ref).toEqual(first.ref); // while v3 downloads
    await settle();
    expect((await resolver.resolve(request)).ref).toEqual({
      ...ref("v3"),
      artifactPath: path.join(cacheDir, "m", "v3"),
    });
    expect(refusals).toHaveLength(1);
  });

  it("with nothing verified before, a refused version reaches the loader, which refuses it too", async () => {
    const cacheDir = await mkdtemp(path.join(root, "cache-"));
    const cache = new ArtifactCache({ storage: bucket, cacheDir });
    const refusals: RefusedVersion[] = [];
    const resolver = new VerifiedModelResolver(new SwitchableResolver(ref("v2")), cache, (r) =>
      refusals.push(r),
    );
    const resolution = await resolver.resolve(request);
    expect(resolution.ref).toEqual(ref("v2"));
    expect(refusals.map((r) => r.keptServing)).toEqual([null]);
    const loaded: string[] = [];
    const load = cache.loader(async (r) => {
      loaded.push(r.artifactPath);
      throw new Error("not reached");
    });
    await expect(load(ref("v2"))).rejects.toBeInstanceOf(ArtifactCorrupt);
    expect(loaded).toEqual([]);
  });

  it("directory versions (embedded mode) pass through untouched", async () => {
    const cache = new ArtifactCache({ storage: bucket, cacheDir: "/nowhere" });
    const local = { name: "m", version: "v9", artifactPath: "/data/registry/m/v9" };
    const resolver = new VerifiedModelResolver(new SwitchableResolver(local), cache);
    expect((await resolver.resolve(request)).ref).toBe(local);
    expect(await cache.materialize(local)).toBe(local);
    expect(
      (await new VerifiedModelResolver(new SwitchableResolver(null), cache).resolve(request)).ref,
    ).toBeNull();
  });
});
