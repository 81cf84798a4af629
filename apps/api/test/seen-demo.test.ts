import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openFileLogBus, type FileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { importMovieLens } from "@reco/importer";
import {
  buildInteractions,
  DEMO_RATINGS,
  fitModel,
  loadSnapshots,
  publishVersion,
  randomHoldout,
  recordModelVersion,
} from "@reco/ml";
import { ApiKeyStore, createServingRuntime, type ServingRuntime } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";

/**
 * The whole demo (MovieLens latest-small: 671 users, 100,004 ratings) imported as `npm start` does,
 * an iALS demo model trained on the 80 % per-user split (as the demo models were published before
 * they were refitted on everything: the model's own training history then misses a fifth of each
 * user's ratings, so serving's exclusion has to cover them), served through the real HTTP API.
 * What each user rated comes from ratings.csv itself, not from the code under test.
 */
const K = 100;

let dir: string;
let db: Database;
let bus: FileLogBus;
let runtime: ServingRuntime;
let app: FastifyInstance;
let baseUrl: string;
let key: string;
let rated: Map<string, Set<string>>;

/** userId → the movies they rated, straight from the CSV (userId,movieId,rating,timestamp). */
async function ratedFromCsv(): Promise<Map<string, Set<string>>> {
  const byUser = new Map<string, Set<string>>();
  const lines = (await readFile(DEMO_RATINGS, "utf8")).split("\n");
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const [userId, movieId] = line.split(",");
    let set = byUser.get(userId!);
    if (!set) byUser.set(userId!, (set = new Set()));
    set.add(movieId!);
  }
  return byUser;
}

beforeAll(async () => {
  rated = await ratedFromCsv();
  dir = await mkdtemp(path.join(os.tmpdir(), "seen-demo-"));
  const snapshotsRoot = path.join(dir, "snapshots");
  db = await openDatabase({ dataDir: dir });
  await importMovieLens({
    prisma: db.prisma,
    snapshotsRoot,
    moviesPath: path.join(path.dirname(DEMO_RATINGS), "movies.csv"),
    ratingsPath: DEMO_RATINGS,
  });
  const { log } = await loadSnapshots(snapshotsRoot);
  const train = buildInteractions(randomHoldout(log, { seed: 42 }).train);
  const { model } = await fitModel("ials", train, { factors: 32, epochs: 4 });
  const published = await publishVersion({
    registryDir: path.join(dir, "registry"),
    name: "ials-demo",
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "ml-latest-small (80 % split)",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: log.length,
    },
  });
  const id = await recordModelVersion(db.prisma, published.dir, published.metadata);
  await new ModelVersionStore(db.prisma).setStage({ id }, "stable", { by: "test", reason: "demo" });

  bus = await openFileLogBus({ dir: path.join(dir, "events") });
  const topics = topicNames("seen-demo");
  await bus.ensureTopics(Object.values(topics));
  runtime = await createServingRuntime({
    prisma: db.prisma,
    cache: new MemoryCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 }),
    bus,
    topics,
    snapshotsRoot,
    options: { rateLimitPerSecond: 1e6, rateLimitBurst: 1e6 },
  });
  const keys = new ApiKeyStore(db.prisma);
  key = (await keys.create({ name: "seen-demo", role: "client" })).key;
  app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: {},
    serving: servingRoutesDeps(runtime, keys),
  });
  baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
}, 600_000);

afterAll(async () => {
  await app?.close();
  await runtime?.close(2_000);
  await bus?.close();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("seen items on the demo data, through GET /recommend", () => {
  it(`never recommends an item a user rated, for every one of the 671 demo users at k = ${K} (heavy raters included)`, async () => {
    const users = [...rated.keys()];
    expect(users).toHaveLength(671);
    // More ratings than the 1,000 latest items serving used to exclude; one of them above 2,000.
    const heavy = users.filter((user) => rated.get(user)!.size > 1_000);
    expect(heavy.length).toBeGreaterThanOrEqual(9);
    expect(heavy.some((user) => rated.get(user)!.size > 2_000)).toBe(true);

    const violations: string[] = [];
    const lengths: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < users.length) {
        const user = users[next++]!;
        const response = await fetch(`${baseUrl}/recommend/${user}?k=${K}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { items: { itemId: string }[]; fallback: boolean };
        expect(body.fallback).toBe(false);
        lengths.push(body.items.length);
        const seen = rated.get(user)!;
        for (const item of body.items)
          if (seen.has(item.itemId)) violations.push(`user ${user}: ${item.itemId}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    expect(lengths).toHaveLength(671);
    expect(lengths.every((n) => n === K)).toBe(true);
    expect(violations).toEqual([]);
  }, 300_000);
});
