import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { createRedisCache, type RedisCache } from "@reco/cache";
import { DEFAULT_FEATURE_KEY_PREFIX, recentItemsKey, topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { ApiKeyStore } from "@reco/serving";
import { compactSnapshots } from "@reco/snapshots";
import {
  createScratchDatabase,
  sharedServices,
  waitFor,
  type ScratchDatabase,
} from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCatalog, startCatalogInstance, type CatalogInstance } from "./catalog-fixture.ts";
import { call } from "./serving-fixture.ts";
import { ERASED, scanParquet, seedUserRows, seedUserSnapshots } from "./user-data-fixture.ts";

/**
 * DELETE /users/:userId on two api instances over real PostgreSQL, one Redis namespace and
 * Kafka (the users topic): afterwards no Redis key of the namespace — scanned, whatever its
 * type — no Parquet file and no PostgreSQL row mentions the user; the other users' are as before.
 */
const { databaseUrl, redisUrl, brokers } = sharedServices();

const namespace = `test:users:${randomUUID()}:`;
const topics = topicNames(`users-${randomUUID().slice(0, 8)}`);
let scratch: ScratchDatabase;
let dir: string;
let snapshotsRoot: string;
let seedDb: Database;
let adminKey: string;
let clientKey: string;
const opened: { db: Database; cache: RedisCache; bus: EventBus; instance: CatalogInstance }[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase(databaseUrl, "user_data");
  dir = await mkdtemp(path.join(os.tmpdir(), "user-data-real-"));
  seedDb = await openDatabase({ databaseUrl: scratch.url });
  snapshotsRoot = await seedCatalog(seedDb, dir);
  await seedUserSnapshots(snapshotsRoot, topics);
  await seedUserRows(seedDb);
  const keys = new ApiKeyStore(seedDb.prisma);
  adminKey = (await keys.create({ name: "dpo", role: "admin" })).key;
  clientKey = (await keys.create({ name: "app", role: "client" })).key;
  const start = async (label: string) => {
    const db = await openDatabase({ databaseUrl: scratch.url });
    const cache = await createRedisCache({ url: redisUrl, namespace });
    const bus = await connectKafkaBus({
      brokers,
      clientId: `users-${label}-${randomUUID().slice(0, 8)}`,
    });
    await bus.ensureTopics(Object.values(topics));
    const instance = await startCatalogInstance({ db, cache, bus, topics, snapshotsRoot });
    opened.push({ db, cache, bus, instance });
    return instance;
  };
  await Promise.all([start("a"), start("b")]);
}, 180_000);

afterAll(async () => {
  for (const { db, cache, bus, instance } of opened) {
    await instance.close();
    await bus.close();
    await cache.close();
    await db.close();
  }
  const cleaner = await createRedisCache({ url: redisUrl, namespace: "test:users:" });
  await cleaner.deleteByPrefix(namespace.slice("test:users:".length));
  await cleaner.close();
  await seedDb?.close();
  await scratch?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every key of the namespace whose name or content (string, list, set, hash) mentions `text`. */
async function redisKeysMentioning(cache: RedisCache, text: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await cache.client.scan(cursor, "MATCH", `${namespace}*`, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const type = await cache.client.type(key);
      let content: unknown = null;
      if (type === "string") content = await cache.client.get(key);
      else if (type === "list") content = await cache.client.lrange(key, 0, -1);
      else if (type === "set") content = await cache.client.smembers(key);
      else if (type === "hash") content = await cache.client.hgetall(key);
      if (key.includes(text) || JSON.stringify(content).includes(text)) found.push(key);
    }
  } while (cursor !== "0");
  return found;
}

describe("user deletion with PostgreSQL, Redis and Kafka", () => {
  it("nothing mentions the user afterwards, on either instance; the other users' rows are untouched", async () => {
    const [a, b] = opened.map((entry) => entry.instance) as [CatalogInstance, CatalogInstance];
    const cache = opened[0]!.cache;
    await cache.pushLists(
      [{ key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, ERASED), values: [{ itemId: "5" }] }],
      { maxLength: 10 },
    );
    // Feedback through b: the shared recent list and seen set (Redis), and a's and b's answers.
    const sent = await call(b, "/feedback", {
      key: clientKey,
      body: { userId: ERASED, itemId: "7", type: "click" },
    });
    expect(sent.status).toBe(202);
    for (const instance of [a, b]) {
      expect((await call(instance, `/recommend/${ERASED}?k=5`, { key: clientKey })).status).toBe(
        200,
      );
      expect((await call(instance, "/recommend/1?k=5", { key: clientKey })).status).toBe(200);
    }
    const cachedBefore = await redisKeysMentioning(cache, ERASED);
    expect(cachedBefore.length).toBeGreaterThanOrEqual(4);
    const keysOfOne = await redisKeysMentioning(cache, "rec:1:");
    expect(keysOfOne.length).toBeGreaterThan(0);

    const before = await scanParquet(snapshotsRoot, ERASED);
    expect(before.mentioning).toBe(6);
    const { [ERASED]: _erased, ...othersBefore } = before.perUser;
    const statsBefore = await seedDb.prisma.experimentUserStat.count({
      where: { userId: { not: ERASED } },
    });

    expect(b.runtime.history.items(ERASED)).toContain("7");
    const deleted = await call(a, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      status: "done",
      removed: { snapshotFiles: 3, snapshotRows: 6, experimentStatRows: 4, userRows: 1 },
    });
    const again = await call(b, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(deleted.body);

    await compactSnapshots(snapshotsRoot, { settleMs: 0 });
    const after = await scanParquet(snapshotsRoot, ERASED);
    expect(after.mentioning).toBe(0);
    expect(after.perUser).toEqual(othersBefore);
    expect(await redisKeysMentioning(cache, ERASED)).toEqual([]);
    expect(await redisKeysMentioning(cache, "rec:1:")).toEqual(keysOfOne);
    expect(await seedDb.prisma.experimentUserStat.count({ where: { userId: ERASED } })).toBe(0);
    expect(
      await seedDb.prisma.experimentUserStat.count({ where: { userId: { not: ERASED } } }),
    ).toBe(statsBefore);
    expect(await seedDb.prisma.experimentUserHourStat.count({ where: { userId: ERASED } })).toBe(0);
    expect(await seedDb.prisma.experimentUserHourStat.count({ where: { userId: "1" } })).toBe(1);
    // b held the feedback in memory; the users topic (Kafka) made it drop it.
    await waitFor(() => b.runtime.history.count(ERASED) === 0, { timeoutMs: 15_000 });
    expect(a.runtime.history.count(ERASED)).toBe(0);
  }, 120_000);
});
