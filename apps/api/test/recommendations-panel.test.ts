import path from "node:path";
import { appRouter, createCallerFactory, createRecommendationsPanel } from "@reco/api-router";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { ModelVersionStore } from "@reco/db";
import { LogBuilder, buildInteractions, fitModel, publishVersion } from "@reco/ml";
import type { ModelRef, ModelResolver } from "@reco/serving";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startServingApp, type ServingApp } from "./serving-fixture.ts";

/**
 * The recommendations panel's procedures over a real embedded stack (PGlite, Parquet snapshots,
 * ONNX models on the inference thread): a stable iALS and an item-kNN candidate. Expected values
 * come from elsewhere: histories from the fixture's ratings, recommendations from REST
 * `/recommend` and `/similar` with that version served (a switchable resolver), fold-in from REST
 * `/recommend` for a new user who fed the picks back.
 */
let server: ServingApp;
const createCaller = createCallerFactory(appRouter);
let caller: ReturnType<typeof createCaller>;
let stable: ModelRef;
let candidate: ModelRef;
/** What REST serves: switched by the tests (answers are cached per version, never mixed). */
const served: { ref: ModelRef | null } = { ref: null };
const resolver: ModelResolver = { resolve: async () => ({ ref: served.ref }) };

/** The fixture's catalog: item i is "Movie i", Drama when i is even, else Comedy. */
const genresOf = (itemId: string) => (Number(itemId) % 2 === 0 ? ["Drama"] : ["Comedy"]);

beforeAll(async () => {
  server = await startServingApp({
    cache: new MemoryCache({ maxEntries: 10_000 }),
    bus: (dataDir) => openFileLogBus({ dir: path.join(dataDir, "events") }),
    topicPrefix: "panel",
    resolver,
  });
  const log = new LogBuilder();
  for (const event of server.data.ratings)
    log.add(event.userId, event.itemId, event.rating, Date.parse(event.eventTime) / 1000);
  const train = buildInteractions(log.finish());
  const { model } = await fitModel("item-knn", train, {});
  const { dir, metadata } = await publishVersion({
    registryDir: path.join(server.data.dataDir, "registry"),
    name: "item-knn",
    algorithm: "item-knn",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "test",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: server.data.ratings.length,
    },
  });
  await server.data.db.prisma.modelVersion.create({
    data: {
      name: "item-knn",
      version: metadata.version,
      kind: "item-knn",
      stage: "candidate",
      artifactPath: dir,
      checksum: metadata.files["model.onnx"]!.sha256,
    },
  });
  const models = new ModelVersionStore(server.data.db.prisma);
  const rows = await models.list();
  const refOf = (name: string) => {
    const row = rows.find((r) => r.name === name)!;
    return { name: row.name, version: row.version, artifactPath: row.artifactPath };
  };
  stable = refOf("ials");
  candidate = refOf("item-knn");
  const panel = createRecommendationsPanel({
    runtime: server.runtime,
    versions: models,
    // its own cache: REST's answers are computed apart, not read back from the panel's
    cache: new MemoryCache({ maxEntries: 1_000 }),
    bus: server.bus,
    topics: server.topics,
    sharedHistory: false,
  });
  caller = createCaller({
    requestId: "test",
    principal: { keyId: 1, prefix: "000000000000", name: "dash", role: "viewer" },
    invalidKey: false,
    keyStoreDown: false,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: server.keys,
      models,
      recommendations: panel,
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

async function rest(pathAndQuery: string, ref: ModelRef) {
  served.ref = ref;
  const answer = await call(server, pathAndQuery, { key: server.clientKey });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as {
    items: { itemId: string; score: number; reason: string }[];
    fallback: boolean;
    modelVersion: string;
  };
}

describe("recommendations panel procedures", () => {
  it("a user's history: the latest distinct items of the ratings, newest first, with title and genres", async () => {
    for (const userId of ["1", "8", "30"]) {
      const own = server.data.ratings
        .filter((r) => r.userId === userId)
        .sort((a, b) => a.eventTime.localeCompare(b.eventTime));
      const latest = own
        .map((r) => r.itemId)
        .reverse()
        .slice(0, 5);
      const answer = await caller.recommendations.history({ userId, limit: 5 });
      expect(answer.total).toBe(new Set(own.map((r) => r.itemId)).size);
      expect(answer.message).toBeNull();
      expect(answer.items).toEqual(
        latest.map((itemId) => ({ itemId, title: `Movie ${itemId}`, genres: genresOf(itemId) })),
      );
    }
  });

  it("an unknown user: an empty history with a message naming the user", async () => {
    const answer = await caller.recommendations.history({ userId: "nobody-here" });
    expect(answer.items).toEqual([]);
    expect(answer.total).toBe(0);
    expect(answer.message).toContain('"nobody-here"');
  });

  it("a known user: one column per servable version, each what REST /recommend gives with that version served", async () => {
    const answer = await caller.recommendations.forUser({ userId: "5", k: 6 });
    expect(answer.versions.map((v) => [v.name, v.stage, v.serving])).toEqual([
      ["ials", "stable", true],
      ["item-knn", "candidate", false],
    ]);
    expect((await caller.recommendations.versions()).versions).toEqual([
      { name: "ials", version: stable.version, stage: "stable", serving: true },
      { name: "item-knn", version: candidate.version, stage: "candidate", serving: false },
    ]);
    for (const [column, ref] of [
      [answer.versions[0]!, stable],
      [answer.versions[1]!, candidate],
    ] as const) {
      const expected = await rest("/recommend/5?k=6", ref);
      expect(column.modelVersion).toBe(`${ref.name}@${ref.version}`);
      expect(column.fallback).toBe(expected.fallback);
      expect(column.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
      expect(column.items.map((i) => i.reason)).toEqual(expected.items.map((i) => i.reason));
      column.items.forEach((item, i) => {
        expect(item.score).toBeCloseTo(expected.items[i]!.score, 5);
        expect(item.title).toBe(`Movie ${item.itemId}`);
        expect(item.genres).toEqual(genresOf(item.itemId));
        expect(item.fromFallback).toBe(expected.items[i]!.reason === "popular");
      });
      // the user's own ratings are never recommended back
      const rated = new Set(
        server.data.ratings.filter((r) => r.userId === "5").map((r) => r.itemId),
      );
      expect(column.items.filter((i) => rated.has(i.itemId))).toEqual([]);
    }
  });

  it("fold-in of picked items: what REST /recommend gives a new user who fed those items back", async () => {
    const picks = ["1", "3", "5", "7", "9"];
    for (const [ref, userId] of [
      [stable, "panel-new-a"],
      [candidate, "panel-new-b"],
    ] as const) {
      const answer = await caller.recommendations.foldIn({
        itemIds: picks,
        k: 5,
        version: { name: ref.name, version: ref.version },
      });
      served.ref = ref;
      const fed = await call(server, "/feedback", {
        key: server.clientKey,
        body: { events: picks.map((itemId) => ({ userId, itemId, type: "click" })) },
      });
      expect(fed.status).toBe(202);
      const expected = await rest(`/recommend/${userId}?k=5`, ref);
      expect(answer.fallback).toBe(false);
      expect(answer.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
      expect(answer.items.map((i) => i.reason)).toEqual(expected.items.map((i) => i.reason));
      expect(answer.items.every((i) => !picks.includes(i.itemId))).toBe(true);
      expect(answer.items.every((i) => i.reason === "similar_to_recent" && !i.fromFallback)).toBe(
        true,
      );
    }
  });

  it("fold-in with no picks is the cold user's popularity, every item marked as fallback", async () => {
    const answer = await caller.recommendations.foldIn({ itemIds: [], k: 5 });
    const expected = await rest("/recommend/panel-cold?k=5", stable);
    expect(answer.modelVersion).toBe(`ials@${stable.version}`);
    expect(answer.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
    expect(answer.items.every((i) => i.fromFallback && i.reason === "popular")).toBe(true);
  });

  it("similar items: REST /similar of the same version", async () => {
    for (const ref of [stable, candidate]) {
      const answer = await caller.recommendations.similar({
        itemId: "4",
        k: 5,
        version: { name: ref.name, version: ref.version },
      });
      const expected = await rest("/similar/4?k=5", ref);
      expect(answer.modelVersion).toBe(expected.modelVersion);
      expect(answer.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
      expect(answer.items.map((i) => i.title)).toEqual(
        expected.items.map((i) => `Movie ${i.itemId}`),
      );
    }
  });

  it("search: users by id prefix, items by title (case-insensitive), both bounded", async () => {
    const users = await caller.recommendations.searchUsers({ prefix: "2", limit: 20 });
    // the fixture's users are 1..30: those starting with 2 are 2 and 20..29
    expect([...users.users].sort()).toEqual(
      ["2", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29"].sort(),
    );
    const items = await caller.recommendations.searchItems({ query: "MOVIE 3", limit: 4 });
    // "Movie 3" and "Movie 30".."Movie 39" match; 4 of them, the shortest title first
    expect(items.items).toHaveLength(4);
    expect(items.items[0]).toEqual({ itemId: "3", title: "Movie 3", genres: ["Comedy"] });
    expect(items.items.every((i) => i.title.startsWith("Movie 3"))).toBe(true);
  });

  it("the panel logs no exposure: its answers leave the telemetry topics as they were, REST's do not", async () => {
    const published = async () => {
      let total = 0n;
      for (const topic of [server.topics.requests, server.topics.responses])
        for (const end of await server.bus.endOffsets(topic)) total += BigInt(end.offset);
      return total;
    };
    // let exposures queued by earlier tests reach the log
    const settled = async () => {
      let last = await published();
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const now = await published();
        if (now === last) return now;
        last = now;
      }
    };
    const before = await settled();
    await caller.recommendations.forUser({ userId: "12", k: 4 });
    await caller.recommendations.similar({ itemId: "6", k: 4 });
    await caller.recommendations.foldIn({ itemIds: ["2", "4"], k: 4 });
    expect(await settled()).toBe(before);
    // the same answer over REST is logged (request + response): the check above can see one
    await rest("/recommend/12?k=4", stable);
    expect(await settled()).toBe(before + 2n);
  });

  it("bad input: oversized lists, bad k, unknown items and versions are named errors", async () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => String(i + 1));
    const refused = await caller.recommendations.foldIn({ itemIds: tooMany }).catch((e) => e);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).code).toBe("BAD_REQUEST");
    expect((refused as TRPCError).message).toContain("itemIds holds at most 50 items");
    const badK = await caller.recommendations.forUser({ userId: "1", k: 500 }).catch((e) => e);
    expect((badK as TRPCError).code).toBe("BAD_REQUEST");
    expect((badK as TRPCError).message).toContain("k is at most 50");
    const unknownItem = await caller.recommendations.similar({ itemId: "9999" }).catch((e) => e);
    expect((unknownItem as TRPCError).code).toBe("NOT_FOUND");
    expect((unknownItem as TRPCError).message).toContain('"9999"');
    const unknownVersion = await caller.recommendations
      .foldIn({ itemIds: ["1"], version: { name: "ials", version: "v999" } })
      .catch((e) => e);
    expect((unknownVersion as TRPCError).code).toBe("NOT_FOUND");
    expect((unknownVersion as TRPCError).message).toContain("ials@v999");
  });
});
