import { ArtifactCorrupt, ModelVersionMissing } from "@reco/ml";
import { describe, expect, it } from "vitest";
import { ServingMetrics } from "./metrics.ts";
import { ModelPool, type ModelRef, type Ranked, type ServableModel } from "./model-pool.ts";

class TrackedModel implements ServableModel {
  readonly kind = "popularity" as const;
  readonly nItems = 3;
  readonly itemIds = ["a", "b", "c"];
  readonly userIds: string[] = [];
  released = false;
  async recommend(batch: unknown[]): Promise<Ranked[]> {
    return batch.map(() => ({ itemIndices: [0], scores: [1] }));
  }
  async release(): Promise<void> {
    this.released = true;
  }
}

const ref = (version: string): ModelRef => ({
  name: "m",
  version,
  artifactPath: `/r/m/${version}`,
});

describe("ModelPool", () => {
  it("loads a version once however many requests ask for it at the same time", async () => {
    let loads = 0;
    const pool = new ModelPool({
      metrics: new ServingMetrics({ defaultMetrics: false }),
      loader: async () => {
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return new TrackedModel();
      },
    });
    const loaded = await Promise.all(Array.from({ length: 8 }, () => pool.get(ref("v1"))));
    expect(loads).toBe(1);
    expect(new Set(loaded).size).toBe(1);
  });

  it("holds at most `capacity` sessions and releases the least recently used", async () => {
    const models = new Map<string, TrackedModel>();
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const pool = new ModelPool({
      capacity: 3,
      metrics,
      loader: async (r) => {
        const model = new TrackedModel();
        models.set(r.version, model);
        return model;
      },
    });
    for (const v of ["v1", "v2", "v3"]) await pool.get(ref(v));
    await pool.get(ref("v1")); // v2 is now the least recently used
    await pool.get(ref("v4"));
    expect(pool.held().sort()).toEqual(["v1", "v3", "v4"].map((v) => `m@${v}`));
    expect(models.get("v2")!.released).toBe(true);
    expect(models.get("v1")!.released).toBe(false);
    expect(await metrics.value(metrics.modelEvictions)).toBe(1);
  });

  it("an evicted session still in use is released only when its last user finishes", async () => {
    const pool = new ModelPool({
      capacity: 1,
      metrics: new ServingMetrics({ defaultMetrics: false }),
      loader: async () => new TrackedModel(),
    });
    const first = await pool.get(ref("v1"));
    let finish!: () => void;
    const inUse = first.with(() => new Promise<void>((resolve) => (finish = resolve)));
    await pool.get(ref("v2")); // evicts v1 while a request is running on it
    expect((first.model as TrackedModel).released).toBe(false);
    finish();
    await inUse;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((first.model as TrackedModel).released).toBe(true);
  });

  it("remembers a failed load for the backoff period instead of re-reading the artifact per request", async () => {
    let attempts = 0;
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const pool = new ModelPool({
      metrics,
      failureBackoffMs: 60_000,
      loader: async () => {
        attempts += 1;
        throw new ArtifactCorrupt("/registry/m/v1", "checksum mismatch");
      },
    });
    await expect(pool.get(ref("v1"))).rejects.toThrow(/checksum mismatch/);
    await expect(pool.get(ref("v1"))).rejects.toThrow(/checksum mismatch/);
    expect(attempts).toBe(1);
    expect(await metrics.value(metrics.modelLoads, { result: "error" })).toBe(1);
  });

  it("a loader that finds no file (ENOENT) fails with ModelVersionMissing (reason model_missing), the file error as its cause; other errors pass unchanged", async () => {
    const notFound = Object.assign(new Error("ENOENT: no such file, open 'model.onnx'"), {
      code: "ENOENT",
    });
    const crashed = new Error("session crashed");
    const pool = new ModelPool({
      metrics: new ServingMetrics({ defaultMetrics: false }),
      loader: async (r) => {
        throw r.version === "v1" ? notFound : crashed;
      },
    });
    const missing = await pool.get(ref("v1")).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ModelVersionMissing);
    expect(missing).toMatchObject({ reason: "model_missing", cause: notFound });
    await expect(pool.get(ref("v1"))).rejects.toBe(missing); // the remembered failure
    await expect(pool.get(ref("v2"))).rejects.toBe(crashed);
  });
});
