import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { ArtifactCorrupt, publishVersion, seededRandom, type FactorParams } from "@reco/ml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceThread } from "./inference-thread.ts";
import { ServingMetrics } from "./metrics.ts";
import { ModelPool, type ModelRef } from "./model-pool.ts";
import { fallbackReason } from "./strategies/index.ts";

const nUsers = 6;
const nItems = 30;
let dir: string;
let ref: ModelRef;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "inference-thread-"));
  const rnd = seededRandom(7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.3);
  const params: FactorParams = {
    kind: "factors",
    factors: 4,
    nUsers,
    nItems,
    userFactors: fill(nUsers * 4),
    itemFactors: fill(nItems * 4),
    regularization: 0.1,
    alpha: 1,
  };
  const published = await publishVersion({
    registryDir: dir,
    name: "tiny",
    algorithm: "ials",
    params,
    idMaps: {
      users: Array.from({ length: nUsers }, (_, u) => `u${u}`),
      items: Array.from({ length: nItems }, (_, i) => `i${i}`),
    },
    data: { source: "test", from: null, to: null, nUsers, nItems, nInteractions: 0 },
  });
  ref = { name: "tiny", version: published.metadata.version, artifactPath: published.dir };
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("InferenceThread", () => {
  it("loads and scores off the event loop, with the artifact's id maps", async () => {
    const thread = new InferenceThread();
    try {
      const model = await thread.loader(ref);
      expect(model).toMatchObject({ kind: "factors", nItems });
      expect(model.itemIds[3]).toBe("i3");
      const [ranked] = await model.recommend([{ userIndex: 2, exclude: [0, 1] }], 5);
      expect(ranked!.itemIndices).toHaveLength(5);
      expect(ranked!.itemIndices).not.toContain(0);
      const scores = ranked!.scores;
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    } finally {
      await thread.close();
    }
  }, 60_000);

  it("a reason thrown on the thread arrives intact on the main thread and is classified by it (a corrupt artifact → model_corrupt)", async () => {
    const copy = path.join(dir, "corrupt");
    const { cp } = await import("node:fs/promises");
    await cp(ref.artifactPath, copy, { recursive: true });
    await writeFile(path.join(copy, "model.onnx"), "not a model");
    const thread = new InferenceThread();
    try {
      const error = await thread.loader({ ...ref, artifactPath: copy }).then(
        () => expect.fail("a corrupt artifact loaded"),
        (thrown: unknown) => thrown,
      );
      // ArtifactCorrupt was thrown on the inference thread; its class stays there, its fields cross.
      expect(error).not.toBeInstanceOf(ArtifactCorrupt);
      expect(error).toMatchObject({
        name: "ArtifactCorrupt",
        code: "INTERNAL",
        reason: "model_corrupt",
        message: expect.stringMatching(/model\.onnx has \d+ bytes, metadata says/),
      });
      expect(fallbackReason(error)).toBe("model_corrupt");
      // Through the model pool too, as serving meets it.
      const pool = new ModelPool({
        loader: thread.loader,
        metrics: new ServingMetrics({ defaultMetrics: false }),
      });
      const pooled = await pool
        .get({ ...ref, version: "corrupt", artifactPath: copy })
        .catch((thrown: unknown) => thrown);
      expect(fallbackReason(pooled)).toBe("model_corrupt");
      // An error that names no reason on the thread stays unclassified: inference_error.
      const model = await thread.loader(ref);
      const noReason = await model.recommend([{ userIndex: 0 }], 0).catch((e: unknown) => e);
      expect(noReason).toMatchObject({
        message: expect.stringMatching(/k must be a positive integer/),
      });
      expect(fallbackReason(noReason)).toBe("inference_error");
    } finally {
      await thread.close();
    }
  }, 60_000);

  it("when the thread dies, a call in flight settles (answered or failed, never hanging) and the next call reloads the model on a new thread", async () => {
    const thread = new InferenceThread();
    try {
      const model = await thread.loader(ref);
      const before = await model.recommend([{ userIndex: 1 }], 4);
      // The thread ends while a call is in flight, as a crash would end it. (Not worker.terminate():
      // a thread terminated inside an ONNX run aborts this whole process; see the test below.)
      const { worker } = (thread as unknown as { thread: { worker: Worker } }).thread;
      const inFlight = model.recommend([{ userIndex: 1 }], 4);
      worker.postMessage({ type: "stop", id: -1 });
      await inFlight.then(
        (answer) => expect(answer).toEqual(before), // it may have finished just before
        (error: Error) => expect(error.message).toMatch(/inference thread exited/),
      );
      expect(await model.recommend([{ userIndex: 1 }], 4)).toEqual(before);
    } finally {
      await thread.close();
    }
  }, 60_000);

  it("closing while runs are in flight lets them finish and never aborts the process (a terminate() inside an ONNX run does: exit 134)", async () => {
    // In a child process, so that an abort fails this test instead of ending the test runner.
    const fixture = path.join(import.meta.dirname, "../test/fixtures/close-while-busy.ts");
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", fixture, ref.artifactPath, "8"],
        { timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error.code as number | null) ?? null) : 0, stdout, stderr }),
      );
    });
    expect({ code, stderr: stderr.slice(-500) }).toEqual({ code: 0, stderr: "" });
    // every run sent before close() answered: 8 rounds × 2 threads × 20 runs
    expect(stdout).toContain("answered 320, failed 0\ndone");
  }, 150_000);
});
