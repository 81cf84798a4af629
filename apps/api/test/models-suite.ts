/** The models router against a real database; run on PGlite and on PostgreSQL. */
import path from "node:path";
import { finishTrainingRun, publishVersion, recordModelVersion, startTrainingRun } from "@reco/ml";
import { ModelVersionStore } from "@reco/db";
import { StableModelResolver } from "@reco/serving";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failure,
  startTestApi,
  type DatabaseKind,
  type TestApi,
} from "./models-monitoring-fixture.ts";

export function runModelsSuite(kind: DatabaseKind): void {
  describe(`models router (${kind})`, () => {
    let api: TestApi;
    let registryDir: string;

    /** A real registry version (tiny popularity model) with its row and a succeeded training run. */
    async function publish(name: string, ndcg: number, createdAt: Date) {
      const runId = await startTrainingRun(api.db.prisma, {
        modelName: name,
        kind: "popularity",
        params: {},
      });
      const { dir, metadata } = await publishVersion({
        registryDir,
        name,
        algorithm: "popularity",
        params: {
          kind: "popularity",
          nItems: 4,
          scores: { "": Float32Array.from([4, 3, 2, 1]) },
        },
        idMaps: { users: [], items: ["a", "b", "c", "d"] },
        data: { source: "test", from: null, to: null, nUsers: 0, nItems: 4, nInteractions: 10 },
        metrics: { "ndcg@10": ndcg, "recall@10": ndcg * 2 },
        now: createdAt,
      });
      const id = await recordModelVersion(api.db.prisma, dir, metadata);
      await finishTrainingRun(api.db.prisma, runId, {
        status: "succeeded",
        log: "ok",
        timings: { fitMs: 12, evaluateMs: 3 },
        modelVersionId: id,
      });
      return { id, dir, version: metadata.version };
    }

    beforeAll(async () => {
      api = await startTestApi(kind);
      registryDir = path.join(api.dataDir, "registry");
      await publish("pop", 0.2, new Date("2026-01-01T00:00:00Z"));
      await publish("pop", 0.3, new Date("2026-02-01T00:00:00Z"));
      await publish("other", 0.1, new Date("2026-01-15T00:00:00Z"));
      // a row whose artifact is gone: still listed, its card reported missing
      await api.db.prisma.modelVersion.create({
        data: {
          name: "ghost",
          version: "v1",
          kind: "ials",
          artifactPath: path.join(registryDir, "ghost", "v1"),
          checksum: "0",
          offlineMetrics: { "ndcg@10": 0.05, note: "not a number" },
          createdAt: new Date("2025-12-01T00:00:00Z"),
        },
      });
    }, 60_000);
    afterAll(async () => api?.close());

    it("refuses callers without a key, with an unknown key and with the client role", async () => {
      expect((await failure(api.client().models.list.query())).data?.code).toBe("UNAUTHORIZED");
      expect((await failure(api.client("client").models.list.query())).data?.code).toBe(
        "FORBIDDEN",
      );
    });

    it("lists versions newest first with offline metrics and their training run", async () => {
      const list = await api.client("viewer").models.list.query();
      expect(list.map((v) => `${v.name}/${v.version}`)).toEqual([
        "pop/v2",
        "other/v1",
        "pop/v1",
        "ghost/v1",
      ]);
      const newest = list[0]!;
      expect(newest).toMatchObject({ kind: "popularity", stage: "candidate", serving: false });
      expect(newest.offlineMetrics).toEqual({ "ndcg@10": 0.3, "recall@10": 0.6 });
      expect(newest.trainingRun).toMatchObject({
        status: "succeeded",
        timings: { fitMs: 12, evaluateMs: 3 },
      });
      expect(newest.trainingRun?.finishedAt).toBeTruthy();
      const ghost = list[3]!;
      // a non-numeric figure is dropped rather than shown as NaN
      expect(ghost.offlineMetrics).toEqual({ "ndcg@10": 0.05 });
      expect(ghost.trainingRun).toBeNull();
      const pops = await api.client("viewer").models.list.query({ name: "pop" });
      expect(pops.map((v) => v.version)).toEqual(["v2", "v1"]);
    });

    it("returns the registry metadata and the model card of a version", async () => {
      const version = await api.client("viewer").models.get.query({ name: "pop", version: "v2" });
      expect(version.registry.problems).toEqual([]);
      expect(version.registry.metadata).toMatchObject({
        name: "pop",
        version: "v2",
        algorithm: "popularity",
        metrics: { "ndcg@10": 0.3 },
      });
      expect(version.registry.modelCard).toContain("# Model card: pop v2");
      expect(version.registry.modelCard).toContain("ndcg");
    });

    it("still answers for a version whose artifact is missing, naming the problem", async () => {
      const ghost = await api.client("viewer").models.get.query({ name: "ghost", version: "v1" });
      expect(ghost.registry.metadata).toBeNull();
      expect(ghost.registry.modelCard).toBeNull();
      expect(ghost.registry.problems.join("\n")).toContain(path.join("ghost", "v1"));
    });

    it("answers NOT_FOUND naming the model and version", async () => {
      const error = await failure(
        api.client("viewer").models.get.query({ name: "pop", version: "v9" }),
      );
      expect(error.data?.code).toBe("NOT_FOUND");
      expect(error.message).toContain("pop");
      expect(error.message).toContain("v9");
      const set = await failure(
        api
          .client("engineer")
          .models.setStage.mutate({ name: "nope", version: "v1", stage: "stable" }),
      );
      expect(set.data?.code).toBe("NOT_FOUND");
      expect(set.message).toContain("nope");
    });

    it("lets only engineers and admins change a stage", async () => {
      for (const role of ["viewer", "pm"] as const) {
        const error = await failure(
          api.client(role).models.setStage.mutate({ name: "pop", version: "v1", stage: "retired" }),
        );
        expect(error.data?.code).toBe("FORBIDDEN");
        expect(error.message).toContain("engineer");
      }
      const row = await api.db.prisma.modelVersion.findUniqueOrThrow({
        where: { name_version: { name: "pop", version: "v1" } },
      });
      expect(row.stage).toBe("candidate");
      const bad = await failure(
        api.client("engineer").models.setStage.mutate({
          name: "pop",
          version: "v1",
          stage: "canary" as "stable",
        }),
      );
      expect(bad.data?.code).toBe("BAD_REQUEST");
      expect(bad.message).toContain("stage");
    });

    it("serves the stable version stamped last without retiring the previous one", async () => {
      const resolver = () =>
        new StableModelResolver(new ModelVersionStore(api.db.prisma), 0).resolve();
      const engineer = api.client("engineer");
      const v1 = await engineer.models.setStage.mutate({
        name: "pop",
        version: "v1",
        stage: "stable",
      });
      expect(v1).toMatchObject({ stage: "stable", serving: true });
      expect((await resolver()).ref).toMatchObject({ name: "pop", version: "v1" });

      const v2 = await api
        .client("admin")
        .models.setStage.mutate({ name: "pop", version: "v2", stage: "stable" });
      expect(v2.serving).toBe(true);
      expect((await resolver()).ref).toMatchObject({ name: "pop", version: "v2" });
      const list = await engineer.models.list.query({ stage: "stable" });
      expect(list.map((v) => [v.version, v.serving])).toEqual([
        ["v2", true],
        ["v1", false],
      ]);

      // stamping v1 stable again rolls serving back to it; the engineer may say why (not blank)
      const blank = await failure(
        engineer.models.setStage.mutate({
          name: "pop",
          version: "v1",
          stage: "stable",
          reason: " ",
        }),
      );
      expect(blank.data?.code).toBe("BAD_REQUEST");
      expect((await resolver()).ref).toMatchObject({ name: "pop", version: "v2" });
      await engineer.models.setStage.mutate({
        name: "pop",
        version: "v1",
        stage: "stable",
        reason: "v2 regressed click-through",
      });
      expect((await resolver()).ref).toMatchObject({ name: "pop", version: "v1" });
      await engineer.models.setStage.mutate({ name: "pop", version: "v1", stage: "retired" });
      expect((await resolver()).ref).toMatchObject({ name: "pop", version: "v2" });
    });

    it("refuses a stage change on the candidate of an active rollout", async () => {
      const other = await api.db.prisma.modelVersion.findUniqueOrThrow({
        where: { name_version: { name: "other", version: "v1" } },
      });
      const rollout = await api.db.prisma.rollout.create({
        data: { candidateVersionId: other.id, status: "progressing", currentStep: 0 },
      });
      const error = await failure(
        api.client("engineer").models.setStage.mutate({
          name: "other",
          version: "v1",
          stage: "stable",
        }),
      );
      expect(error.data?.code).toBe("CONFLICT");
      expect(error.message).toContain(`rollout ${rollout.id}`);
      await api.db.prisma.rollout.update({
        where: { id: rollout.id },
        data: { status: "aborted" },
      });
      const changed = await api
        .client("engineer")
        .models.setStage.mutate({ name: "other", version: "v1", stage: "retired" });
      expect(changed.stage).toBe("retired");
    });
  });
}
