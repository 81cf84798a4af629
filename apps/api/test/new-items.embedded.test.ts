import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openFileLogBus, type FileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { ApiKeyStore, createServingRuntime, type ServingRuntime } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { seedCatalog } from "./catalog-fixture.ts";
import { call } from "./serving-fixture.ts";

/**
 * A new item in its first minute, through the real API (PGlite and the file-backed log): created
 * with PUT /items and a genre, never interacted with, unknown to the served model (trained before
 * it existed), it is recommended to a user whose history is in that genre and not to a user whose
 * history is in another — with the runtime's newItemSlots on.
 * Seeded catalog: odd ids Comedy, even ids Drama (catalog-fixture.ts).
 */
let dir: string;
let db: Database;
let bus: FileLogBus;
let runtime: ServingRuntime;
let app: FastifyInstance;
let server: { baseUrl: string };
let clientKey: string;
let engineerKey: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "new-items-"));
  db = await openDatabase({ dataDir: dir });
  const snapshotsRoot = await seedCatalog(db, dir);
  const keys = new ApiKeyStore(db.prisma);
  engineerKey = (await keys.create({ name: "catalog", role: "engineer" })).key;
  clientKey = (await keys.create({ name: "app", role: "client" })).key;
  bus = await openFileLogBus({ dir: path.join(dir, "events") });
  const topics = topicNames("embedded");
  await bus.ensureTopics(Object.values(topics));
  runtime = await createServingRuntime({
    prisma: db.prisma,
    cache: new MemoryCache({ maxEntries: 10_000 }),
    bus,
    topics,
    snapshotsRoot,
    options: { rateLimitPerSecond: 10_000, rateLimitBurst: 20_000, newItemSlots: 2 },
  });
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
  server = { baseUrl: await app.listen({ port: 0, host: "127.0.0.1" }) };
  await runtime.followCatalog(`test-catalog-${randomUUID()}`);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await runtime?.close(2_000);
  await bus?.close();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function feedback(userId: string, itemIds: string[]) {
  const response = await call(server, "/feedback", {
    key: clientKey,
    body: { events: itemIds.map((itemId) => ({ userId, itemId, type: "click" })) },
  });
  expect(response.status).toBeLessThan(300);
}

const recommended = async (userId: string) => {
  const response = await call(server, `/recommend/${userId}?k=10`, { key: clientKey });
  expect(response.status).toBe(200);
  return response.body.items as { itemId: string; reason: string }[];
};

describe("a new item from content in its first minute", () => {
  it("is recommended to a user whose history is in its genre, not to one whose history is not", async () => {
    await feedback("comedy-fan", ["1", "3", "5", "7", "9", "11"]);
    await feedback("drama-fan", ["2", "4", "6", "8", "10", "12"]);
    const before = await recommended("comedy-fan");
    expect(before.some((item) => item.itemId === "fresh-comedy")).toBe(false);

    const created = Date.now();
    const put = await call(server, "/items/fresh-comedy", {
      method: "PUT",
      key: engineerKey,
      body: { title: "Fresh Start", genres: ["Comedy"] },
    });
    expect(put.status).toBeLessThan(300);

    let answer = await recommended("comedy-fan");
    while (
      !answer.some((item) => item.itemId === "fresh-comedy") &&
      Date.now() - created < 60_000
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await recommended("comedy-fan");
    }
    expect(Date.now() - created).toBeLessThan(60_000);
    const fresh = answer.find((item) => item.itemId === "fresh-comedy");
    expect(fresh?.reason).toBe("new_similar_content");
    // the rest of the answer still comes from the model and popularity, k items in all
    expect(answer).toHaveLength(10);
    expect((await recommended("drama-fan")).some((item) => item.itemId === "fresh-comedy")).toBe(
      false,
    );
    // never interacted with: the model does not know it
    expect(
      await db.prisma.item.findUnique({ where: { externalId: "fresh-comedy" } }),
    ).not.toBeNull();
  });

  it("made unavailable, it is no longer recommended", async () => {
    const patch = await call(server, "/items/fresh-comedy", {
      method: "PATCH",
      key: engineerKey,
      body: { available: false },
    });
    expect(patch.status).toBeLessThan(300);
    expect((await recommended("comedy-fan")).some((item) => item.itemId === "fresh-comedy")).toBe(
      false,
    );
  });

  it("a catalog item older than the served version that it never saw is not treated as new", async () => {
    // created before the model was trained (as an imported item nobody rated), made known to the
    // runtime by a PATCH; a fresh item created after it shows the catalog has taken both changes
    await db.prisma.item.create({
      data: {
        externalId: "old-comedy",
        title: "Old Laughs",
        genres: ["Comedy"],
        createdAt: new Date("2000-01-01T00:00:00Z"),
      },
    });
    const patch = await call(server, "/items/old-comedy", {
      method: "PATCH",
      key: engineerKey,
      body: { available: true },
    });
    expect(patch.status).toBeLessThan(300);
    const put = await call(server, "/items/fresh-comedy-2", {
      method: "PUT",
      key: engineerKey,
      body: { title: "Fresh Laughs", genres: ["Comedy"] },
    });
    expect(put.status).toBeLessThan(300);
    const created = Date.now();
    let answer = await recommended("comedy-fan");
    while (
      !answer.some((item) => item.itemId === "fresh-comedy-2") &&
      Date.now() - created < 60_000
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await recommended("comedy-fan");
    }
    expect(answer.find((item) => item.itemId === "fresh-comedy-2")?.reason).toBe(
      "new_similar_content",
    );
    expect(
      answer.some((item) => item.reason === "new_similar_content" && item.itemId === "old-comedy"),
    ).toBe(false);
  });
});
