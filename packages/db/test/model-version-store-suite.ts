/**
 * ModelVersionStore against a real database: embedded PGlite, or a database of its own on the
 * PostgreSQL server at DATABASE_URL (dropped afterwards). Rows are created through the store;
 * rollouts (another owner's table) directly with Prisma.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppError } from "@reco/contracts";
import { createScratchDatabase } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ModelVersionStore,
  openDatabase,
  type Database,
  type ModelStage,
  type NewModelVersion,
  type RolloutStatus,
  type StageChange,
} from "../src/index.ts";

export type DatabaseKind = "pglite" | "postgres";

export interface StoreFixture {
  db: Database;
  store: ModelVersionStore;
  close(): Promise<void>;
}

export async function openStoreFixture(kind: DatabaseKind): Promise<StoreFixture> {
  if (kind === "pglite") {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-model-versions-"));
    const db = await openDatabase({ dataDir });
    return {
      db,
      store: new ModelVersionStore(db.prisma),
      async close() {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    throw new Error(
      'DATABASE_URL is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first',
    );
  }
  const scratch = await createScratchDatabase(baseUrl, "reco_model_versions");
  const db = await openDatabase({ databaseUrl: scratch.url });
  return {
    db,
    store: new ModelVersionStore(db.prisma),
    async close() {
      await db.close();
      await scratch.drop();
    },
  };
}

let serial = 0;
/** A new version's columns; every call names a new version of `name`. */
export const newVersion = (
  name: string,
  extra: Partial<NewModelVersion> = {},
): NewModelVersion => ({
  name,
  version: `v${++serial}`,
  kind: "ials",
  artifactPath: `/registry/${name}/v${serial}`,
  checksum: `sha-${serial}`,
  ...extra,
});

export const byEngineer: StageChange = { by: "key:abc12", reason: "test" };

/** The AppError a promise rejects with (fails the test when it resolves). */
export async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export function runModelVersionStoreSuite(kind: DatabaseKind): void {
  describe(`ModelVersionStore (${kind})`, () => {
    let fx: StoreFixture;
    let store: ModelVersionStore;
    beforeAll(async () => {
      fx = await openStoreFixture(kind);
      store = fx.store;
    }, 60_000);
    afterAll(async () => fx?.close());

    const stageOf = async (id: number): Promise<ModelStage | undefined> =>
      (await store.byId(id))?.stage;
    const rollout = (candidateVersionId: number, status: RolloutStatus) =>
      fx.db.prisma.rollout.create({ data: { candidateVersionId, status, currentStep: 0 } });

    it("records a candidate and finds it by name and version or by id; null for unknown ones", async () => {
      const data = newVersion("find", {
        hyperparams: { factors: 8 },
        offlineMetrics: { "ndcg@10": 0.25 },
        createdAt: new Date("2026-01-02T03:04:05Z"),
      });
      const id = await store.record(data);
      const expected = {
        id,
        name: "find",
        version: data.version,
        artifactPath: data.artifactPath,
        stage: "candidate",
      };
      expect(await store.find("find", data.version)).toEqual(expected);
      expect(await store.byId(id)).toEqual(expected);
      const summary = await store.get("find", data.version);
      expect(summary).toMatchObject({ kind: "ials", checksum: data.checksum, serving: false });
      expect(summary.offlineMetrics).toEqual({ "ndcg@10": 0.25 });
      expect(summary.createdAt.toISOString()).toBe("2026-01-02T03:04:05.000Z");
      expect(await store.find("find", "v-none")).toBeNull();
      expect(await store.find("nope", data.version)).toBeNull();
      expect(await store.byId(id + 100_000)).toBeNull();
      // the registry is immutable: one row per name and version
      await expect(store.record({ ...data, checksum: "other" })).rejects.toThrow(
        /Unique constraint/,
      );
    });

    it("tells which of a list of ids exist, each once", async () => {
      const a = await store.record(newVersion("existing"));
      const b = await store.record(newVersion("existing"));
      const found = await store.existing([b, 987_654, a, b, 987_655]);
      expect([...found].sort((x, y) => x - y)).toEqual([a, b].sort((x, y) => x - y));
      expect(await store.existing([987_654])).toEqual([]);
      expect(await store.existing([])).toEqual([]);
    });

    it("serves the stable version stamped last, counts stages, and answers NOT_FOUND for unknown versions", async () => {
      const stableBefore = await store.countByStage("stable");
      const a = await store.record(newVersion("serve"));
      const b = await store.record(newVersion("serve"));
      const first = await store.servingVersion();
      await store.setStage({ id: b }, "stable", byEngineer);
      await tick();
      await store.setStage({ id: a }, "stable", byEngineer);
      // a has the lower id but was stamped last
      expect(await store.servingVersion()).toMatchObject({ id: a, name: "serve" });
      expect(await store.countByStage("stable")).toBe(stableBefore + 2);
      await tick();
      const bRow = (await store.byId(b))!;
      await store.setStage(bRow, "stable", byEngineer); // a ref by id (extra fields ignored)
      expect((await store.servingVersion())?.id).toBe(b);
      await store.setStage({ name: "serve", version: bRow.version }, "retired", byEngineer);
      expect((await store.servingVersion())?.id).toBe(a);
      expect(await store.countByStage("retired")).toBeGreaterThanOrEqual(1);
      await store.setStage({ id: a }, "retired", byEngineer);
      expect(await store.servingVersion()).toEqual(first);

      const byName = await appError(
        store.setStage({ name: "serve", version: "v-none" }, "stable", byEngineer),
      );
      expect(byName.code).toBe("NOT_FOUND");
      expect(byName.message).toContain("model serve version v-none");
      const byId = await appError(store.setStage({ id: 987_654 }, "stable", byEngineer));
      expect(byId.code).toBe("NOT_FOUND");
      expect(byId.message).toContain("987654");
      await expect(store.get("serve", "v-none")).rejects.toThrow(/not registered/);
    });

    it("breaks a tie on stageChangedAt by the higher id", async () => {
      const a = await store.record(newVersion("tie"));
      const b = await store.record(newVersion("tie"));
      const at = new Date(Date.now() + 60_000);
      await fx.db.prisma
        .$executeRaw`UPDATE model_versions SET stage = 'stable', stage_changed_at = ${at} WHERE id IN (${a}, ${b})`;
      expect((await store.servingVersion())?.id).toBe(Math.max(a, b));
      await store.setStage({ id: Math.max(a, b) }, "retired", byEngineer);
      expect((await store.servingVersion())?.id).toBe(Math.min(a, b));
      await store.setStage({ id: Math.min(a, b) }, "retired", byEngineer);
    });

    it("refuses to change the candidate of an active rollout unless that rollout changes it", async () => {
      for (const status of ["pending", "progressing", "paused"] as const) {
        const id = await store.record(newVersion("rolled"));
        const active = await rollout(id, status);
        const refused = await appError(store.setStage({ id }, "stable", byEngineer));
        expect(refused.code).toBe("CONFLICT");
        expect(refused.message).toContain(`rollout ${active.id} (${status})`);
        expect(refused.details).toEqual({ rolloutId: active.id });
        // another rollout's id does not unlock it
        const other = await appError(
          store.setStage({ id }, "canary", { by: "rollout:x", reason: "r", rolloutId: 987_654 }),
        );
        expect(other.code).toBe("CONFLICT");
        expect(await stageOf(id)).toBe("candidate");
        // the rollout controller changes its own candidate
        const changed = await store.setStage({ id }, "canary", {
          by: `rollout:${active.id}`,
          reason: "stage 1 started",
          rolloutId: active.id,
        });
        expect(changed).toMatchObject({ id, stage: "canary" });
        expect(await stageOf(id)).toBe("canary");
      }
    });

    it("lets anyone change the candidate once its rollout is over", async () => {
      for (const status of ["promoted", "rolled_back", "aborted"] as const) {
        const id = await store.record(newVersion("finished"));
        await rollout(id, status);
        expect(await store.setStage({ id }, "retired", byEngineer)).toMatchObject({
          stage: "retired",
        });
      }
    });

    it("runs inside a caller's transaction: rolled back with it, committed with it", async () => {
      const id = await store.record(newVersion("tx"));
      const servingBefore = await store.servingVersion();
      await expect(
        fx.db.prisma.$transaction(async (tx) => {
          const changed = await store.setStage({ id }, "stable", byEngineer, tx);
          expect(changed.stage).toBe("stable");
          // visible inside the transaction, through every read that takes it
          expect((await store.byId(id, tx))?.stage).toBe("stable");
          expect((await store.servingVersion(tx))?.id).toBe(id);
          throw new Error("caller fails after the stage change");
        }),
      ).rejects.toThrow("caller fails");
      expect(await stageOf(id)).toBe("candidate");
      expect(await store.servingVersion()).toEqual(servingBefore);

      // a version recorded and promoted in one transaction appears with both changes
      const recorded = await fx.db.prisma.$transaction(async (tx) => {
        const newId = await store.record(newVersion("tx"), tx);
        await store.setStage({ id: newId }, "stable", byEngineer, tx);
        return newId;
      });
      expect(await stageOf(recorded)).toBe("stable");
      expect((await store.servingVersion())?.id).toBe(recorded);
      await store.setStage({ id: recorded }, "retired", byEngineer);

      // a refusal inside the caller's transaction aborts the caller's other writes too
      const guarded = await store.record(newVersion("tx"));
      const active = await rollout(guarded, "pending");
      await expect(
        fx.db.prisma.$transaction(async (tx) => {
          await store.setStage({ id }, "retired", byEngineer, tx);
          await store.setStage({ id: guarded }, "stable", byEngineer, tx);
        }),
      ).rejects.toThrow(`rollout ${active.id}`);
      expect(await stageOf(id)).toBe("candidate");
    });

    it("lists summaries with the serving flag on the stable version stamped last", async () => {
      const a = await store.record(newVersion("listed"));
      const b = await store.record(newVersion("listed"));
      await store.setStage({ id: a }, "stable", byEngineer);
      const list = await store.list({ name: "listed" });
      expect(list.map((v) => [v.id, v.stage, v.serving])).toEqual([
        [b, "candidate", false],
        [a, "stable", true],
      ]);
      expect((await store.list({ name: "listed", stage: "stable" })).map((v) => v.id)).toEqual([a]);
      await store.setStage({ id: a }, "retired", byEngineer);
    });
  });
}
