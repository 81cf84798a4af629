/**
 * Canary rollouts end to end: simulated users go through the real HTTP api (feedback, then
 * recommendations, then clicks drawn from a click probability per served version) while the
 * stream worker turns their events into aggregates and the rollout controller judges them, on
 * the embedded stack and on real PostgreSQL, Redis and Kafka.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectKafkaBus, openFileLogBus, type EventBus } from "@reco/bus";
import { createCache, type Cache } from "@reco/cache";
import { cacheNamespace, SCHEMA_VERSION, topicNames, type RateEvent } from "@reco/contracts";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { ExperimentAssigner, ExperimentModelResolver } from "@reco/experiments/store";
import {
  buildInteractions,
  createScorer,
  fitModel,
  LogBuilder,
  publishVersion,
  recordModelVersion,
} from "@reco/ml";
import { seededRandom } from "@reco/rollouts";
import {
  RolloutController,
  RolloutModelResolver,
  RolloutRouting,
  RolloutService,
  type RolloutView,
} from "@reco/rollouts/store";
import {
  ApiKeyStore,
  createServingRuntime,
  StableModelResolver,
  type ModelLoader,
  type ServableModel,
  type ServingRuntime,
} from "@reco/serving";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { createStreamWorker, type StreamWorker } from "@reco/stream";
import { createScratchDatabase, waitFor, type ScratchDatabase } from "@reco/testkit";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { call } from "./serving-fixture.ts";

const ITEMS = 40;
const TRAIN_USERS = 30;

export type StackKind = "embedded" | "real";

interface Stack {
  db: Database;
  store: ModelVersionStore;
  service: RolloutService;
  runtime: ServingRuntime;
  app: FastifyInstance;
  baseUrl: string;
  clientKey: string;
  registryDir: string;
  /** Versions whose scorer fails this share of its calls (a faulty model release). */
  faults: Map<string, number>;
  close(): Promise<void>;
}

/** Ratings users 1..30 gave (each rates 8 neighbouring items), as Parquet: the training data. */
function trainingRatings(): RateEvent[] {
  const ratings: RateEvent[] = [];
  for (let u = 0; u < TRAIN_USERS; u++)
    for (let r = 0; r < 8; r++)
      ratings.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `r-${u}-${r}`,
        eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, ratings.length % 60)).toISOString(),
        userId: String(u + 1),
        type: "rate",
        itemId: String(((u + r) % ITEMS) + 1),
        rating: 1 + (r % 5),
      });
  return ratings;
}

async function startStack(kind: StackKind): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `rollout-e2e-${kind}-`));
  const snapshotsRoot = path.join(dataDir, "snapshots");
  const registryDir = path.join(dataDir, "registry");
  const prefix = `ro${randomUUID().slice(0, 8)}`;
  let scratch: ScratchDatabase | null = null;
  let db: Database;
  let cache: Cache;
  let bus: EventBus;
  if (kind === "real") {
    const { DATABASE_URL, REDIS_URL, KAFKA_BROKERS } = process.env;
    if (!DATABASE_URL || !REDIS_URL || !KAFKA_BROKERS)
      throw new Error(
        "the rollout end-to-end suite on real services needs DATABASE_URL, REDIS_URL and KAFKA_BROKERS: " +
          'run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first.',
      );
    scratch = await createScratchDatabase(DATABASE_URL, "rollout_e2e");
    db = await openDatabase({ databaseUrl: scratch.url });
    cache = await createCache({ kind: "redis", url: REDIS_URL, namespace: cacheNamespace(prefix) });
    bus = await connectKafkaBus({
      brokers: KAFKA_BROKERS,
      clientId: `rollout-e2e-${prefix}`,
      consumerTiming: {
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 600,
        rebalanceTimeoutMs: 6_000,
      },
    });
  } else {
    db = await openDatabase({ dataDir });
    cache = await createCache({ kind: "memory", maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
    bus = await openFileLogBus({ dir: path.join(dataDir, "events"), pollIntervalMs: 20 });
  }
  const topics = topicNames(prefix);
  await bus.ensureTopics(Object.values(topics));

  await db.prisma.item.createMany({
    data: Array.from({ length: ITEMS }, (_, i) => ({
      externalId: String(i + 1),
      title: `Movie ${i + 1}`,
    })),
  });
  const ratings = trainingRatings();
  await writeSnapshot(
    snapshotsRoot,
    { topic: topics.rate, partition: 0, firstOffset: 0n, lastOffset: BigInt(ratings.length - 1) },
    ratings.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
  );

  const store = new ModelVersionStore(db.prisma);
  const faults = new Map<string, number>();
  const random = seededRandom(4242);
  const loader: ModelLoader = async (ref) => {
    const model: ServableModel = await createScorer(ref.artifactPath);
    const share = faults.get(ref.version);
    if (!share) return model;
    return {
      kind: model.kind,
      nItems: model.nItems,
      itemIds: model.itemIds,
      userIds: model.userIds,
      release: () => model.release(),
      async recommend(batch, k) {
        if (random() < share) throw new Error("candidate failed to score (injected fault)");
        return model.recommend(batch, k);
      },
    };
  };

  const assigner = new ExperimentAssigner(db.prisma, { refreshMs: 1_000 });
  await assigner.start();
  const routing = new RolloutRouting(db.prisma, {
    refreshMs: 500,
    warm: async (candidate) => runtime.pool.get(candidate),
  });
  const runtime: ServingRuntime = await createServingRuntime({
    prisma: db.prisma,
    cache,
    bus,
    topics,
    snapshotsRoot,
    loader,
    resolver: new RolloutModelResolver(
      routing,
      new ExperimentModelResolver(assigner, new StableModelResolver(store, 500)),
    ),
    options: { rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 },
  });
  // as the api does: a candidate is loaded before users are routed to it
  await routing.start();
  const logger = pino({ level: "silent" });
  const worker: StreamWorker = createStreamWorker({
    bus,
    topics,
    logger,
    cache,
    prisma: db.prisma,
    registry: new Registry(),
    config: {
      groupId: `${prefix}-worker`,
      snapshotRoot: snapshotsRoot,
      batchIntervalMs: 300,
      aggregateIntervalMs: 500,
    },
  });
  await worker.start();
  const service = new RolloutService(db.prisma, store);
  const controller = new RolloutController(db.prisma, service, { tickMs: 250, leaseTtlMs: 5_000 });
  controller.start();
  const keys = new ApiKeyStore(db.prisma);
  const clientKey = (await keys.create({ name: "app", role: "client" })).key;
  const app = await buildServer({
    logger,
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: ITEMS, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: { database: () => db.ping(), model: async () => runtime.ready() },
    bodyLimitBytes: 256 * 1024,
    serving: servingRoutesDeps(runtime, keys),
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    db,
    store,
    service,
    runtime,
    app,
    baseUrl,
    clientKey,
    registryDir,
    faults,
    async close() {
      await controller.stop();
      routing.close();
      assigner.close();
      await app.close();
      await runtime.close(2_000);
      await worker.stop();
      await bus.close();
      await cache.close();
      await db.close();
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Trains a small iALS model on the training ratings and registers it as `name` `version`. */
async function trainVersion(stack: Stack, version: string, seed: number) {
  const log = new LogBuilder();
  for (const event of trainingRatings())
    log.add(event.userId, event.itemId, event.rating, Date.parse(event.eventTime) / 1000);
  const train = buildInteractions(log.finish());
  const { model } = await fitModel("ials", train, { factors: 8, epochs: 3, threads: 0, seed });
  const { dir, metadata } = await publishVersion({
    registryDir: stack.registryDir,
    name: "ials",
    version,
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "test",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: 240,
    },
  });
  return recordModelVersion(stack.db.prisma, dir, metadata);
}

export function runRolloutsEndToEnd(kind: StackKind): void {
  describe(`canary rollouts end to end (${kind})`, () => {
    let stack: Stack;
    /** Click probability per served version: each scenario's candidate has its own. */
    const clickProbability = new Map<string, number>([["v1", 0.3]]);
    const clicks = seededRandom(777);
    let userCounter = 0;

    beforeAll(async () => {
      stack = await startStack(kind);
      const v1 = await trainVersion(stack, "v1", 1);
      await stack.store.setStage({ id: v1 }, "stable", { by: "test", reason: "baseline" });
    }, 180_000);
    afterEach(async () => {
      // a scenario that failed leaves no active rollout behind for the next one
      for (const rollout of await stack.service.list())
        if (["pending", "progressing", "paused"].includes(rollout.status))
          await stack.service
            .act({
              id: rollout.id,
              action: "abort",
              expectedVersion: rollout.version,
              actor: "test",
            })
            .catch(() => undefined);
    });
    afterAll(async () => {
      await stack?.close();
    }, 60_000);

    /**
     * One simulated user: rates two items (history, so the model folds them in), asks for
     * recommendations three times and clicks the first item with the served version's click
     * probability (a failed model answer is the popularity fallback: stable's probability).
     */
    async function simulateUser(): Promise<void> {
      const userId = `sim-${kind}-${++userCounter}`;
      const a = String(((userCounter * 7) % ITEMS) + 1);
      const b = String(((userCounter * 7 + 3) % ITEMS) + 1);
      const rated = await call(stack, "/feedback", {
        key: stack.clientKey,
        body: {
          events: [
            { userId, itemId: a, type: "rate", value: 4 },
            { userId, itemId: b, type: "rate", value: 5 },
          ],
        },
      });
      expect(rated.status).toBe(202);
      for (let i = 0; i < 3; i++) {
        // each page a new cache key, so every answer is computed by the version that serves it
        const answer = await call(stack, `/recommend/${userId}?k=5&exclude=page-${i}`, {
          key: stack.clientKey,
        });
        expect(answer.status).toBe(200);
        const version = String(answer.body.modelVersion).split("@")[1] ?? "v1";
        const p = answer.body.fallback ? 0.3 : (clickProbability.get(version) ?? 0.3);
        if (clicks() < p) {
          const clicked = await call(stack, "/feedback", {
            key: stack.clientKey,
            body: {
              userId,
              itemId: answer.body.items[0].itemId,
              type: "click",
              recId: answer.body.recId,
            },
          });
          expect(clicked.status).toBe(202);
        }
      }
    }

    /** Users arrive in waves of `perWave` until the rollout leaves `progressing`/`pending`. */
    async function driveUntilSettled(
      id: number,
      perWave: number,
      timeoutMs: number,
    ): Promise<RolloutView> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await stack.service.get(id);
        if (!["pending", "progressing"].includes(view.status) || Date.now() > deadline) return view;
        const wave = Array.from({ length: perWave }, () => simulateUser());
        await Promise.all(wave);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    async function startRollout(
      version: string,
      options: { minUsersPerArm?: number; maxInconclusive?: number } = {},
    ) {
      const { rollout } = await stack.service.start(
        {
          candidate: { name: "ials", version },
          stages: [5, 50, 100].map((trafficPct) => ({
            trafficPct,
            minDurationS: 2,
            minUsersPerArm: options.minUsersPerArm ?? 10,
          })),
          gates: {
            latencyMinImpressions: 20,
            ctrMinUsers: 10,
            tuningUsers: 500,
            maxInconclusive: options.maxInconclusive ?? 120,
            // a shared 2-core test machine's p99 swings by 10× with load (547 vs 47 ms seen in one
            // minute); the latency gate's decisions are covered by the controller suite instead
            latencyP99MarginPct: 1_000,
            latencySlackMs: 1_000,
          },
          evaluationIntervalS: 1,
        },
        "key:test",
      );
      return rollout.id;
    }

    it("rolls back a candidate answering 20 % errors at the first stage", async () => {
      await trainVersion(stack, "v-errors", 2);
      stack.faults.set("v-errors", 0.2);
      clickProbability.set("v-errors", 0.3);
      const id = await startRollout("v-errors");
      const view = await driveUntilSettled(id, 40, 150_000);
      const detail = await stack.service.detail(id);
      expect(view.status, JSON.stringify(detail.evaluations.at(-1))).toBe("rolled_back");
      expect(view.step).toBe(0);
      expect(detail.events.at(-1)!.reason).toMatch(/error_rate/);
      expect((await stack.store.find("ials", "v-errors"))?.stage).toBe("retired");
      // stable serves everyone again, within the 5 s every instance has to follow a change
      await waitFor(
        async () => {
          const after = await call(stack, "/recommend/sim-after-errors?k=3", {
            key: stack.clientKey,
          });
          return after.body.variant === undefined && after.body.modelVersion === "ials@v1";
        },
        { timeoutMs: 5_000, description: "stable serving everyone after the rollback" },
      );
    }, 200_000);

    it("rolls back a candidate with clearly lower click-through", async () => {
      await trainVersion(stack, "v-dull", 3);
      clickProbability.set("v-dull", 0.02);
      const id = await startRollout("v-dull");
      const view = await driveUntilSettled(id, 40, 150_000);
      const detail = await stack.service.detail(id);
      expect(view.status, JSON.stringify(detail.evaluations.at(-1))).toBe("rolled_back");
      expect(detail.events.at(-1)!.reason).toMatch(/click_through/);
    }, 200_000);

    it("pauses a candidate with too little traffic as inconclusive and does not promote it", async () => {
      await trainVersion(stack, "v-thin", 4);
      clickProbability.set("v-thin", 0.3);
      const id = await startRollout("v-thin", { minUsersPerArm: 500, maxInconclusive: 3 });
      const view = await driveUntilSettled(id, 2, 120_000);
      const detail = await stack.service.detail(id);
      // the evaluation that decided, when it was not "inconclusive" (a flake seen once in CI)
      expect(view.status, JSON.stringify([detail.events.at(-1), detail.evaluations.at(-1)])).toBe(
        "paused",
      );
      expect(detail.events.at(-1)!.reason).toMatch(/inconclusive 4 times/);
      expect((await stack.store.servingVersion())?.version).toBe("v1");
      await stack.service.act({
        id,
        action: "abort",
        expectedVersion: view.version,
        actor: "key:test",
      });
    }, 200_000);

    it("promotes a good candidate through 5 → 50 → 100 %, serving it to its share of users on the way", async () => {
      await trainVersion(stack, "v-good", 5);
      clickProbability.set("v-good", 0.6);
      const id = await startRollout("v-good");
      const variants = new Set<string>();
      const watcher = setInterval(() => {
        void call(stack, `/recommend/sim-watch-${userCounter}?k=3`, { key: stack.clientKey }).then(
          (answer) => variants.add(String(answer.body.variant)),
          () => undefined,
        );
      }, 300);
      const view = await driveUntilSettled(id, 40, 180_000);
      clearInterval(watcher);
      const detail = await stack.service.detail(id);
      expect(view.status, JSON.stringify(detail.evaluations.at(-1))).toBe("promoted");
      expect(detail.events.map((e) => `${e.action}@${e.step}`)).toEqual([
        "start@-1",
        "start_stage@0",
        "advance@1",
        "advance@2",
        "promote@2",
      ]);
      expect([...variants].some((v) => v.startsWith(`rollout:${id}:`))).toBe(true);
      await waitFor(
        async () => {
          const answer = await call(stack, `/recommend/sim-after-${kind}?k=3`, {
            key: stack.clientKey,
          });
          return answer.body.modelVersion === "ials@v-good" && answer.body.variant === undefined;
        },
        { timeoutMs: 5_000, description: "the promoted version serving everyone" },
      );
    }, 240_000);
  });
}
