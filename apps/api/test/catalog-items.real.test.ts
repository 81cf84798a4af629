import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { createRedisCache, type RedisCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { ApiKeyStore } from "@reco/serving";
import { createScratchDatabase, sharedServices, type ScratchDatabase } from "@reco/testkit";
import { afterAll, beforeAll, describe } from "vitest";
import { seedCatalog, startCatalogInstance, type CatalogInstance } from "./catalog-fixture.ts";
import { catalogPropagationTests, type CatalogSetup } from "./catalog-suite.ts";

/**
 * The item API on two api instances over real PostgreSQL, one Redis namespace (answers cached
 * there are shared) and Kafka (the catalog topic): what one instance is told, both act on.
 */
const { databaseUrl, redisUrl, brokers } = sharedServices();

const namespace = `test:catalog:${randomUUID()}:`;
const topics = topicNames(`catalog-${randomUUID().slice(0, 8)}`);
let scratch: ScratchDatabase;
let dir: string;
const opened: { db: Database; cache: RedisCache; bus: EventBus; instance: CatalogInstance }[] = [];
let setup: CatalogSetup;

beforeAll(async () => {
  scratch = await createScratchDatabase(databaseUrl, "catalog_items");
  dir = await mkdtemp(path.join(os.tmpdir(), "catalog-real-"));
  const seedDb = await openDatabase({ databaseUrl: scratch.url });
  const snapshotsRoot = await seedCatalog(seedDb, dir);
  const keys = new ApiKeyStore(seedDb.prisma);
  const engineerKey = (await keys.create({ name: "catalog", role: "engineer" })).key;
  const clientKey = (await keys.create({ name: "app", role: "client" })).key;
  await seedDb.close();
  const start = async (label: string) => {
    const db = await openDatabase({ databaseUrl: scratch.url });
    const cache = await createRedisCache({ url: redisUrl, namespace });
    const bus = await connectKafkaBus({
      brokers,
      clientId: `catalog-${label}-${randomUUID().slice(0, 8)}`,
    });
    await bus.ensureTopics(Object.values(topics));
    const instance = await startCatalogInstance({ db, cache, bus, topics, snapshotsRoot });
    opened.push({ db, cache, bus, instance });
    return instance;
  };
  const [a, b] = await Promise.all([start("a"), start("b")]);
  setup = { a, b, engineerKey, clientKey };
}, 180_000);

afterAll(async () => {
  for (const { db, cache, bus, instance } of opened) {
    await instance.close();
    await bus.close();
    await cache.close();
    await db.close();
  }
  const cleaner = await createRedisCache({ url: redisUrl, namespace: "test:catalog:" });
  await cleaner.deleteByPrefix(namespace.slice("test:catalog:".length));
  await cleaner.close();
  await scratch?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("item API on two instances with PostgreSQL, Redis and Kafka", () => {
  catalogPropagationTests(() => setup);
});
