import { randomUUID } from "node:crypto";
import path from "node:path";
import type { EventBus } from "@reco/bus";
import type { Cache } from "@reco/cache";
import { SCHEMA_VERSION, type RateEvent, type TopicNames } from "@reco/contracts";
import type { Database } from "@reco/db";
import { IMPORT_TOPIC } from "@reco/importer";
import {
  ApiKeyStore,
  createServingRuntime,
  type ServingRuntime,
  type ServingRuntimeDeps,
} from "@reco/serving";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { publishStableIals } from "./fixtures.ts";

export const ITEMS = 40;
export const USERS = 30;
const RATINGS_PER_USER = 8;

/**
 * Items "1".."40" (odd ids Comedy, even ids Drama), 30 users rating 8 items each in Parquet
 * snapshots, and an iALS model trained on them, marked stable.
 */
export async function seedCatalog(db: Database, dataDir: string): Promise<string> {
  const snapshotsRoot = path.join(dataDir, "snapshots");
  await db.prisma.item.createMany({
    data: Array.from({ length: ITEMS }, (_, i) => ({
      externalId: String(i + 1),
      title: `Movie ${i + 1}`,
      genres: i % 2 ? ["Drama"] : ["Comedy"],
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
        // spread over the catalog, so each item is in several users' answers
        itemId: String(((u * 3 + r * 5) % ITEMS) + 1),
        rating: 1 + (r % 5),
      });
  await writeSnapshot(
    snapshotsRoot,
    { topic: IMPORT_TOPIC, partition: 0, firstOffset: 0n, lastOffset: BigInt(ratings.length - 1) },
    ratings.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
  );
  await publishStableIals(db, dataDir, ratings);
  return snapshotsRoot;
}

export interface CatalogInstance {
  runtime: ServingRuntime;
  app: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}

/** One api instance as main.ts wires it: serving routes, the item API, the catalog subscription. */
export async function startCatalogInstance(options: {
  db: Database;
  cache: Cache;
  bus: EventBus;
  topics: TopicNames;
  snapshotsRoot: string;
  userDeletion?: ServingRuntimeDeps["userDeletion"];
}): Promise<CatalogInstance> {
  const runtime = await createServingRuntime({
    prisma: options.db.prisma,
    cache: options.cache,
    bus: options.bus,
    topics: options.topics,
    snapshotsRoot: options.snapshotsRoot,
    options: { rateLimitPerSecond: 10_000, rateLimitBurst: 20_000 },
    userDeletion: options.userDeletion,
  });
  const keys = new ApiKeyStore(options.db.prisma);
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: {},
    serving: servingRoutesDeps(runtime, keys),
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  await runtime.followCatalog(`test-catalog-${randomUUID()}`);
  return {
    runtime,
    app,
    baseUrl,
    async close() {
      await app.close();
      await runtime.close(2_000);
    },
  };
}
