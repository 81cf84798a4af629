import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { createRedisCache, type RedisCache } from "@reco/cache";
import { SCHEMA_VERSION, topicNames, type RateEvent } from "@reco/contracts";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import {
  LogBuilder,
  buildInteractions,
  fitModel,
  publishVersion,
  recordModelVersion,
} from "@reco/ml";
import { IMPORT_TOPIC } from "@reco/importer";
import { ApiKeyStore, createServingRuntime, type ServingRuntime } from "@reco/serving";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { createScratchDatabase, sharedServices, type ScratchDatabase } from "@reco/testkit";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { call } from "./serving-fixture.ts";

/**
 * Two api instances (two servers, each with its own database pool, Redis client and Kafka
 * producer) over one real PostgreSQL database, one Redis namespace and one set of Kafka topics:
 * what one instance is told, the other acts on at once.
 */
const { databaseUrl, redisUrl, brokers } = sharedServices();

const ITEMS = 40;
const USERS = 30;
const RATINGS_PER_USER = 8;
/** Each instance's limit, per key: a burst of BURST then (almost) nothing. */
const BURST = 6;

interface Instance {
  db: Database;
  cache: RedisCache;
  bus: EventBus;
  runtime: ServingRuntime;
  app: FastifyInstance;
  baseUrl: string;
}

let scratch: ScratchDatabase;
let dir: string;
let setupDb: Database;
let keys: ApiKeyStore;
const instances: Instance[] = [];
let a: Instance;
let b: Instance;
const namespace = `test:shared:${randomUUID()}:`;
const topics = topicNames(`shared-${randomUUID().slice(0, 8)}`);

/** A fresh client key: each test charges its own bucket. */
const newKey = async (name: string) => (await keys.create({ name, role: "client" })).key;

async function startInstance(label: string, snapshotsRoot: string): Promise<Instance> {
  const db = await openDatabase({ databaseUrl: scratch.url });
  const cache = await createRedisCache({ url: redisUrl, namespace });
  const bus = await connectKafkaBus({
    brokers,
    clientId: `shared-${label}-${randomUUID().slice(0, 8)}`,
  });
  const runtime = await createServingRuntime({
    prisma: db.prisma,
    cache,
    bus,
    topics,
    snapshotsRoot,
    options: { rateLimitPerSecond: 0.001, rateLimitBurst: BURST },
  });
  const instanceKeys = new ApiKeyStore(db.prisma);
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: instanceKeys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: instanceKeys,
    },
    readiness: {},
    serving: servingRoutesDeps(runtime, instanceKeys),
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  const instance = { db, cache, bus, runtime, app, baseUrl };
  instances.push(instance);
  return instance;
}

beforeAll(async () => {
  scratch = await createScratchDatabase(databaseUrl, "shared_state");
  dir = await mkdtemp(path.join(os.tmpdir(), "shared-state-"));
  const snapshotsRoot = path.join(dir, "snapshots");
  setupDb = await openDatabase({ databaseUrl: scratch.url });
  await setupDb.prisma.item.createMany({
    data: Array.from({ length: ITEMS }, (_, i) => ({
      externalId: String(i + 1),
      title: `Movie ${i + 1}`,
      genres: ["Drama"],
    })),
  });
  const ratings: RateEvent[] = [];
  for (let u = 0; u < USERS; u += 1)
    for (let r = 0; r < RATINGS_PER_USER; r += 1)
      ratings.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `r-${u}-${r}`,
        eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, ratings.length % 60)).toISOString(),
        userId: String(u + 1),
        type: "rate",
        itemId: String(((u + r) % ITEMS) + 1),
        rating: 1 + (r % 5),
      });
  await writeSnapshot(
    snapshotsRoot,
    {
      topic: IMPORT_TOPIC,
      partition: 0,
      firstOffset: 0n,
      lastOffset: BigInt(ratings.length - 1),
    },
    ratings.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
  );
  const log = new LogBuilder();
  for (const event of ratings)
    log.add(event.userId, event.itemId, event.rating, Date.parse(event.eventTime) / 1000);
  const train = buildInteractions(log.finish());
  const { model } = await fitModel("ials", train, { factors: 8, epochs: 3, threads: 0 });
  const published = await publishVersion({
    registryDir: path.join(dir, "registry"),
    name: "ials",
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
      nInteractions: ratings.length,
    },
  });
  const id = await recordModelVersion(setupDb.prisma, published.dir, published.metadata);
  await new ModelVersionStore(setupDb.prisma).setStage({ id }, "stable", {
    by: "test",
    reason: "shared state",
  });
  keys = new ApiKeyStore(setupDb.prisma);
  const setupBus = await connectKafkaBus({
    brokers,
    clientId: `shared-setup-${randomUUID().slice(0, 8)}`,
  });
  await setupBus.ensureTopics(Object.values(topics));
  await setupBus.close();
  a = await startInstance("a", snapshotsRoot);
  b = await startInstance("b", snapshotsRoot);
}, 180_000);

afterAll(async () => {
  for (const instance of instances) {
    await instance.app.close();
    await instance.runtime.close(2_000);
    await instance.bus.close();
    await instance.cache.close();
    await instance.db.close();
  }
  const cleaner = await createRedisCache({ url: redisUrl, namespace: "test:shared:" });
  await cleaner.deleteByPrefix(namespace.slice("test:shared:".length));
  await cleaner.close();
  await setupDb?.close();
  await scratch?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("two api instances on one Redis, one database, one Kafka", () => {
  it(`share each key's rate limit: ${BURST} requests in all get through, spread over both instances`, async () => {
    const key = await newKey("shared-limit");
    const other = await newKey("other");
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 4; i += 1)
      statuses.push((await call(i % 2 ? b : a, "/items/1", { key })).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(BURST);
    expect(statuses.slice(BURST)).toEqual([429, 429, 429, 429]);
    // per instance, each would have let BURST through: the answers after BURST are 429 on both
    const refused = await call(a, "/items/1", { key });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await call(b, "/items/1", { key })).status).toBe(429);
    // another key has its own bucket
    expect((await call(b, "/items/1", { key: other })).status).toBe(200);
  });

  it("exclude on B, at once, an item fed back to A (for a known user, at every k)", async () => {
    const key = await newKey("exclusion");
    const before = await call(b, "/recommend/3?k=10", { key });
    expect(before.status).toBe(200);
    expect(before.body.fallback).toBe(false);
    const top: string = before.body.items[0].itemId;
    const beforeWide = await call(b, "/recommend/3?k=20", { key });
    expect(beforeWide.body.items.map((item: { itemId: string }) => item.itemId)).toContain(top);

    const posted = await call(a, "/feedback", {
      key,
      body: { userId: "3", itemId: top, type: "click" },
    });
    expect(posted.status).toBe(202);

    const after = await call(b, "/recommend/3?k=10", { key });
    expect(after.body.cached).toBe(false); // B's cached answer was dropped by A's feedback
    const afterWide = await call(b, "/recommend/3?k=20", { key });
    for (const answer of [after, afterWide]) {
      expect(answer.status).toBe(200);
      expect(answer.body.items.map((item: { itemId: string }) => item.itemId)).not.toContain(top);
    }
  });

  it("fold in on B, at once, what a new user fed back to A (B never saw them)", async () => {
    const key = await newKey("fold-in");
    const cold = await call(b, "/recommend/newcomer?k=5", { key });
    expect(cold.body.items.every((item: { reason: string }) => item.reason === "popular")).toBe(
      true,
    );

    const fedBack = ["1", "2", "3"];
    const posted = await call(a, "/feedback", {
      key,
      body: { events: fedBack.map((itemId) => ({ userId: "newcomer", itemId, type: "click" })) },
    });
    expect(posted.status).toBe(202);
    expect(b.runtime.history.count("newcomer")).toBe(0); // not from B's own history

    const warm = await call(b, "/recommend/newcomer?k=5", { key });
    expect(warm.status).toBe(200);
    expect(warm.body.cached).toBe(false);
    const items: { itemId: string; reason: string }[] = warm.body.items;
    expect(items[0]!.reason).toBe("similar_to_recent");
    for (const itemId of fedBack) expect(items.map((item) => item.itemId)).not.toContain(itemId);
  });

  it("drop B's cached answers when A gets the user's feedback", async () => {
    const key = await newKey("invalidation");
    await call(b, "/recommend/7?k=5", { key });
    expect((await call(b, "/recommend/7?k=5", { key })).body.cached).toBe(true);
    expect((await call(a, "/recommend/7?k=5", { key })).body.cached).toBe(true); // one shared cache
    const posted = await call(a, "/feedback", {
      key,
      body: { userId: "7", itemId: "40", type: "click" },
    });
    expect(posted.status).toBe(202);
    expect((await call(b, "/recommend/7?k=5", { key })).body.cached).toBe(false);
  });
});
