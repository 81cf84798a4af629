import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openFileLogBus, type FileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { ApiKeyStore } from "@reco/serving";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCatalog, startCatalogInstance, type CatalogInstance } from "./catalog-fixture.ts";
import { catalogPropagationTests, type CatalogSetup } from "./catalog-suite.ts";
import { call } from "./serving-fixture.ts";

/**
 * The item API in embedded mode: PGlite and the file-backed event log. Two serving instances in
 * this process share the database and the log but not their caches, so what instance b learns of
 * a write through a, it learns from the catalog topic. Then bad input, through HTTP.
 */
let dir: string;
let db: Database;
let bus: FileLogBus;
const instances: CatalogInstance[] = [];
let setup: CatalogSetup;
let clientKey: string;
let engineerKey: string;
const topics = topicNames("embedded");

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "catalog-embedded-"));
  db = await openDatabase({ dataDir: dir });
  const snapshotsRoot = await seedCatalog(db, dir);
  const keys = new ApiKeyStore(db.prisma);
  engineerKey = (await keys.create({ name: "catalog", role: "engineer" })).key;
  clientKey = (await keys.create({ name: "app", role: "client" })).key;
  bus = await openFileLogBus({ dir: path.join(dir, "events") });
  await bus.ensureTopics(Object.values(topics));
  for (let i = 0; i < 2; i += 1)
    instances.push(
      await startCatalogInstance({
        db,
        cache: new MemoryCache({ maxEntries: 10_000 }),
        bus,
        topics,
        snapshotsRoot,
      }),
    );
  setup = { a: instances[0]!, b: instances[1]!, engineerKey, clientKey };
}, 180_000);

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await bus?.close();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("item API on two instances with PGlite and the file-backed log", () => {
  catalogPropagationTests(() => setup);
});

describe("item API: bad input is a clear 4xx and changes nothing", () => {
  const itemCount = () => db.prisma.item.count();

  it("only engineer and admin keys write; a client key gets 403", async () => {
    const put = await call(setup.a, "/items/new-1", {
      method: "PUT",
      key: clientKey,
      body: { title: "New" },
    });
    expect(put.status).toBe(403);
    expect(await db.prisma.item.findUnique({ where: { externalId: "new-1" } })).toBeNull();
  });

  it.each([
    ["an unknown field", { title: "A", price: 3 }, "price"],
    ["an invalid date", { title: "A", availableFrom: "2026-13-01T00:00:00Z" }, "availableFrom"],
    [
      "a date without an offset",
      { title: "A", availableUntil: "2026-12-24T00:00:00" },
      "availableUntil",
    ],
    [
      "a window that closes before it opens",
      { title: "A", availableFrom: "2026-12-24T00:00:00Z", availableUntil: "2026-12-01T00:00:00Z" },
      "availableUntil: must be later than availableFrom",
    ],
    ["a category with a comma", { title: "A", categories: ["a,b"] }, "categories.0"],
    ["no title", { categories: ["Comedy"] }, "title"],
  ])("PUT with %s → 400 naming it", async (_what, body, named) => {
    const before = await itemCount();
    const response = await call(setup.a, "/items/new-2", { method: "PUT", key: engineerKey, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("BAD_REQUEST");
    expect(response.body.error.message).toContain(named);
    expect(await itemCount()).toBe(before);
  });

  it("an item id over 256 characters → 400; PATCH or DELETE of an unknown item → 404", async () => {
    const long = "x".repeat(257);
    const put = await call(setup.a, `/items/${long}`, {
      method: "PUT",
      key: engineerKey,
      body: { title: "A" },
    });
    expect(put.status).toBe(400);
    expect(put.body.error.message).toContain("itemId");
    const patch = await call(setup.a, "/items/nope", {
      method: "PATCH",
      key: engineerKey,
      body: { available: false },
    });
    expect(patch.status).toBe(404);
    expect(
      (await call(setup.a, "/items/nope", { method: "DELETE", key: engineerKey })).status,
    ).toBe(404);
    const empty = await call(setup.a, "/items/1", { method: "PATCH", key: engineerKey, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("nothing to change");
  });

  it("a PATCH whose bound crosses the stored one → 400, the item unchanged", async () => {
    const put = await call(setup.a, "/items/windowed", {
      method: "PUT",
      key: engineerKey,
      body: { title: "W", availableFrom: "2026-12-10T00:00:00Z" },
    });
    expect(put.status).toBe(200);
    const patch = await call(setup.a, "/items/windowed", {
      method: "PATCH",
      key: engineerKey,
      body: { availableUntil: "2026-12-01T00:00:00Z" },
    });
    expect(patch.status).toBe(400);
    const row = await db.prisma.item.findUnique({ where: { externalId: "windowed" } });
    expect(row?.availableUntil).toBeNull();
  });

  it("bulk: a bad row refuses the request, naming each bad row by index and field; none applied", async () => {
    const before = await itemCount();
    const response = await call(setup.a, "/items/bulk", {
      key: engineerKey,
      body: {
        items: [
          { itemId: "bulk-ok-1", title: "fine" },
          { itemId: "bulk-bad-1", title: "bad", availableFrom: "soon" },
          { itemId: "bulk-ok-2", title: "fine" },
          { itemId: "bulk-bad-2", title: "bad", stock: 4 },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.rows).toEqual([
      { index: 1, itemId: "bulk-bad-1", field: "availableFrom", message: expect.any(String) },
      { index: 3, itemId: "bulk-bad-2", field: "stock", message: expect.any(String) },
    ]);
    expect(response.body.error.message).toContain("none applied");
    expect(await itemCount()).toBe(before);
  });

  it("bulk: more than 1,000 rows → 400, none applied; 1,000 good rows are all applied, seen by both instances", async () => {
    const before = await itemCount();
    const rows = Array.from({ length: 1001 }, (_, i) => ({
      itemId: `bulk-${i}`,
      title: `Bulk ${i}`,
      categories: ["Bulk"],
    }));
    const tooMany = await call(setup.a, "/items/bulk", { key: engineerKey, body: { items: rows } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain("at most 1000 items");
    expect(await itemCount()).toBe(before);

    const ok = await call(setup.a, "/items/bulk", {
      key: engineerKey,
      body: { items: rows.slice(0, 1000) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ upserted: 1000 });
    expect(await itemCount()).toBe(before + 1000);
    // The new category is known to instance b once the changes arrived: a filter on it is valid.
    const started = Date.now();
    let status = 0;
    while (Date.now() - started < 5_000) {
      status = (await call(setup.b, "/items/bulk-999", { key: clientKey })).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    const filtered = await call(setup.b, "/recommend/1?k=5&category=bulk", { key: clientKey });
    expect(filtered.status).toBe(200);
    // No one interacted with them yet: popular items within the filter, from the new ones.
    expect(filtered.body.items).toHaveLength(5);
    expect(
      filtered.body.items.every((item: { itemId: string }) => item.itemId.startsWith("bulk-")),
    ).toBe(true);
  });

  it("a malformed change on the catalog topic is skipped; the changes after it still apply", async () => {
    // Applied by the same subscription, not by a resync after a crash (which would reload the catalog).
    const heldBefore = setup.b.runtime.catalog();
    await bus.publish(topics.catalog, { key: "5", value: { type: "catalog.item", itemId: "5" } });
    await bus.publish(topics.catalog, { key: "5", value: Buffer.from("{not json") });
    const patched = await call(setup.a, "/items/5", {
      method: "PATCH",
      key: engineerKey,
      body: { title: "Renamed 5" },
    });
    expect(patched.status).toBe(200);
    const started = Date.now();
    let title = "";
    while (Date.now() - started < 5_000 && title !== "Renamed 5") {
      title = (await call(setup.b, "/items/5", { key: clientKey })).body.title;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(title).toBe("Renamed 5");
    expect(setup.b.runtime.catalog()).toBe(heldBefore);
  });

  it("with the event log closed, a write is stored and applied here, and answered 503 to retry", async () => {
    const ownBus = await openFileLogBus({ dir: path.join(dir, "events-closed") });
    await ownBus.ensureTopics(Object.values(topics));
    const lonely = await startCatalogInstance({
      db,
      cache: new MemoryCache({ maxEntries: 1_000 }),
      bus: ownBus,
      topics,
      snapshotsRoot: path.join(dir, "snapshots"),
    });
    try {
      await ownBus.close();
      const put = await call(lonely, "/items/unannounced", {
        method: "PUT",
        key: engineerKey,
        body: { title: "Unannounced", categories: ["Comedy"] },
      });
      expect(put.status).toBe(503);
      expect(put.body.error.message).toContain("stored but could not be announced");
      expect(put.headers.get("retry-after")).toBe("2");
      const row = await db.prisma.item.findUnique({ where: { externalId: "unannounced" } });
      expect(row?.title).toBe("Unannounced");
      expect(lonely.runtime.catalog().get("unannounced")?.title).toBe("Unannounced");
    } finally {
      await lonely.close();
    }
  });

  it("filters: bad values are a 400 naming the parameter", async () => {
    for (const [query, named] of [
      ["category=", "empty category"],
      ["category=comedy&excludeCategory=Comedy", "both asked for and excluded"],
      ["excludeCategory=horror", '"horror"'],
      ["categories=comedy", "categories"],
    ] as const) {
      const response = await call(setup.a, `/recommend/1?${query}`, { key: clientKey });
      expect(response.status, query).toBe(400);
      expect(response.body.error.message, query).toContain(named);
    }
    const similar = await call(setup.a, "/similar/1?category=nope", { key: clientKey });
    expect(similar.status).toBe(400);
  });
});
