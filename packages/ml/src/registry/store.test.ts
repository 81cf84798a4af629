import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createScorer } from "../onnx/scorer.ts";
import {
  randomFactorParams,
  randomHistory,
  randomItemItemParams,
  randomPopularityParams,
} from "../onnx/random-params.ts";
import { referenceScores, topK } from "../onnx/reference.ts";
import type { IdMaps, ModelParams } from "../params.ts";
import { ArtifactCorrupt, ModelVersionMissing, VersionExists } from "./errors.ts";
import { listVersions, loadArtifact, openVersion } from "./artifact.ts";
import { type PublishRequest, publishVersion } from "./store.ts";

const N_USERS = 30;
const N_ITEMS = 120;
const idMaps: IdMaps = {
  users: Array.from({ length: N_USERS }, (_, u) => `user-${u}`),
  items: Array.from({ length: N_ITEMS }, (_, i) => `item-${i}`),
};
const history = randomHistory(N_USERS, N_ITEMS, 8);
let registryDir: string;

beforeEach(async () => {
  registryDir = await mkdtemp(path.join(tmpdir(), "reco-registry-"));
});
afterEach(async () => {
  await rm(registryDir, { recursive: true, force: true });
});

function request(params: ModelParams, extra: Partial<PublishRequest> = {}): PublishRequest {
  return {
    registryDir,
    name: "demo",
    algorithm:
      params.kind === "factors" ? "ials" : params.kind === "item-item" ? "item-knn" : "popularity",
    params,
    idMaps,
    trainHistory: history,
    hyperparameters: { factors: 8, epochs: 3 },
    data: {
      source: "fixture.csv",
      from: "2020-01-01T00:00:00Z",
      to: "2020-02-01T00:00:00Z",
      nUsers: N_USERS,
      nItems: N_ITEMS,
      nInteractions: 500,
    },
    metrics: { "ndcg@10": 0.25, "recall@10": 0.3, "ndcg@20": 0.28 },
    now: new Date("2026-01-02T03:04:05Z"),
    ...extra,
  };
}

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at % bytes.length]! ^= 0xff;
  await writeFile(file, bytes);
}

describe("model registry files", () => {
  it("publishes a complete version with checksums, card and a scorer that matches the reference", async () => {
    const params = randomFactorParams(N_USERS, N_ITEMS, 8);
    const { dir, metadata } = await publishVersion(request(params));
    expect(path.relative(registryDir, dir)).toBe(path.join("demo", "v1"));
    expect((await readdir(dir)).sort()).toEqual(
      ["MODEL_CARD.md", "id-maps.json", "metadata.json", "model.onnx", "train-history.bin"].sort(),
    );
    expect(metadata.files["model.onnx"]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(metadata.exportCheck.maxAbsDiff).toBeLessThan(1e-5);
    expect(metadata.foldIn).toEqual({ regularization: params.regularization, alpha: params.alpha });
    const card = await readFile(path.join(dir, "MODEL_CARD.md"), "utf8");
    expect(card).toContain("| ndcg | 0.2500 | 0.2800 |");
    expect(card).toContain("## Limitations");
    expect(card).toContain(metadata.files["model.onnx"]!.sha256);

    const scorer = await createScorer(dir);
    try {
      const [r] = await scorer.recommend([{ userIndex: 4 }], 10);
      const seen = Array.from(history.indices.subarray(history.indptr[4]!, history.indptr[5]!));
      const ref = referenceScores(params, {
        kind: "factors",
        vector: params.userFactors.subarray(32, 40),
      });
      expect(r!.itemIndices).toEqual(topK(ref, 10, seen).itemIndices);
      expect(scorer.itemIds[r!.itemIndices[0]!]).toBe(`item-${r!.itemIndices[0]}`);
    } finally {
      await scorer.release();
    }
  });

  it("numbers versions v1, v2 … and refuses to overwrite an existing version", async () => {
    const params = randomPopularityParams(N_ITEMS, ["device=tv"]);
    await publishVersion(request(params));
    const second = await publishVersion(request(params));
    expect(second.metadata.version).toBe("v2");
    const before = await readFile(path.join(second.dir, "model.onnx"));
    const other = randomPopularityParams(N_ITEMS, [], 99);
    await expect(publishVersion(request(other, { version: "v2" }))).rejects.toBeInstanceOf(
      VersionExists,
    );
    expect(Buffer.compare(before, await readFile(path.join(second.dir, "model.onnx")))).toBe(0);
    expect((await listVersions(registryDir)).map((v) => v.version)).toEqual(["v1", "v2"]);
  });

  it("refuses a model.onnx with one flipped byte (ArtifactCorrupt), at load and when creating a scorer", async () => {
    const { dir } = await publishVersion(request(randomItemItemParams(N_ITEMS, 10)));
    await loadArtifact(dir); // intact: loads
    await flipByte(path.join(dir, "model.onnx"), 1234);
    await expect(loadArtifact(dir)).rejects.toBeInstanceOf(ArtifactCorrupt);
    await expect(createScorer(dir)).rejects.toThrow(/model\.onnx sha256 [0-9a-f]{64} ≠ recorded/);
    // Its stable reason (what serving classifies on): model_corrupt.
    await expect(createScorer(dir)).rejects.toMatchObject({ reason: "model_corrupt" });
  });

  it("refuses a corrupted id map, a truncated history and an unparseable metadata.json", async () => {
    const a = await publishVersion(request(randomPopularityParams(N_ITEMS, [])));
    await flipByte(path.join(a.dir, "id-maps.json"), 10);
    await expect(loadArtifact(a.dir)).rejects.toThrow(/id-maps\.json sha256/);

    const b = await publishVersion(request(randomPopularityParams(N_ITEMS, [])));
    const hist = path.join(b.dir, "train-history.bin");
    await writeFile(hist, (await readFile(hist)).subarray(0, 50));
    await expect(loadArtifact(b.dir)).rejects.toThrow(/train-history\.bin has 50 bytes/);

    const c = await publishVersion(request(randomPopularityParams(N_ITEMS, [])));
    const meta = path.join(c.dir, "metadata.json");
    await writeFile(meta, (await readFile(meta, "utf8")).slice(0, 100));
    await expect(loadArtifact(c.dir)).rejects.toThrow(/metadata\.json is not valid JSON/);
    const listed = await listVersions(registryDir, "demo");
    expect(listed.find((v) => v.version === "v3")?.problem).toMatch(/corrupt/);
  });

  it("leaves no version and no temp directory behind when publishing fails", async () => {
    const bad = randomFactorParams(N_USERS, N_ITEMS, 4);
    bad.itemFactors[7] = NaN;
    await expect(publishVersion(request(bad))).rejects.toThrow(/NaN/);
    const wrongMaps = request(randomFactorParams(N_USERS, N_ITEMS, 4), {
      idMaps: { users: idMaps.users, items: ["x"] },
    });
    await expect(publishVersion(wrongMaps)).rejects.toThrow(/id map has 1 items, the model 120/);
    expect(await readdir(path.join(registryDir, "demo"))).toEqual([]);
    expect(await listVersions(registryDir)).toEqual([]);
  });

  it("rejects names that would escape the registry and reports missing versions", async () => {
    await expect(
      publishVersion(request(randomPopularityParams(N_ITEMS, []), { name: "../evil" })),
    ).rejects.toThrow(/model name "..\/evil" must match/);
    await expect(openVersion(registryDir, "demo", "v9")).rejects.toBeInstanceOf(
      ModelVersionMissing,
    );
    await expect(openVersion(registryDir, "demo", "v9")).rejects.toMatchObject({
      reason: "model_missing",
    });
  });
});
