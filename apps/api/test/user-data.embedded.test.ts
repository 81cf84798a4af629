import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openFileLogBus, type FileLogBus } from "@reco/bus";
import { recentItemsKey, topicNames, DEFAULT_FEATURE_KEY_PREFIX } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { ApiKeyStore, sharedRecentKey, sharedSeenKey } from "@reco/serving";
import { compactSnapshots } from "@reco/snapshots";
import { waitFor } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCatalog, startCatalogInstance, type CatalogInstance } from "./catalog-fixture.ts";
import { call } from "./serving-fixture.ts";
import {
  ERASED,
  KeyRecordingCache,
  scanParquet,
  seedUserRows,
  seedUserSnapshots,
} from "./user-data-fixture.ts";

/**
 * DELETE /users/:userId and GET /users/:userId/export through HTTP, in embedded mode (PGlite and
 * the file-backed log), on two api instances with caches of their own: the deletion goes through
 * instance a, instance b learns of it from the users topic.
 */
let dir: string;
let db: Database;
let bus: FileLogBus;
let snapshotsRoot: string;
const caches = [new KeyRecordingCache(), new KeyRecordingCache()];
const instances: CatalogInstance[] = [];
let adminKey: string;
let engineerKey: string;
let clientKey: string;
const topics = topicNames("embedded");

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "user-data-"));
  db = await openDatabase({ dataDir: dir });
  snapshotsRoot = await seedCatalog(db, dir);
  await seedUserSnapshots(snapshotsRoot, topics);
  await seedUserRows(db);
  const keys = new ApiKeyStore(db.prisma);
  adminKey = (await keys.create({ name: "privacy-officer", role: "admin" })).key;
  engineerKey = (await keys.create({ name: "eng", role: "engineer" })).key;
  clientKey = (await keys.create({ name: "app", role: "client" })).key;
  bus = await openFileLogBus({ dir: path.join(dir, "events") });
  await bus.ensureTopics(Object.values(topics));
  for (const cache of caches)
    instances.push(await startCatalogInstance({ db, cache, bus, topics, snapshotsRoot }));
}, 180_000);

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await bus?.close();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("user data deletion and export", () => {
  it("bad input: a client or engineer key → 403, an id over 256 characters → 400, an unknown user → 404", async () => {
    const [a] = instances;
    for (const key of [clientKey, engineerKey]) {
      const denied = await call(a!, `/users/${ERASED}`, { method: "DELETE", key });
      expect(denied.status).toBe(403);
      expect((await call(a!, `/users/${ERASED}/export`, { key })).status).toBe(403);
    }
    const long = await call(a!, `/users/${"x".repeat(257)}`, { method: "DELETE", key: adminKey });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toContain("userId");
    const unknown = await call(a!, "/users/nobody-at-all", { method: "DELETE", key: adminKey });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('user "nobody-at-all" not found');
    expect((await call(a!, "/users/nobody-at-all/export", { key: adminKey })).status).toBe(404);
    expect(await db.prisma.userDeletion.count()).toBe(0);
  });

  it("export, delete, compaction: nothing mentions the user; everyone else's rows are as before", async () => {
    const [a, b] = instances as [CatalogInstance, CatalogInstance];
    // What the stream worker and the shared history would have cached for the user, on both.
    for (const cache of caches) {
      await cache.pushLists(
        [
          { key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, ERASED), values: [{ itemId: "5" }] },
          { key: sharedRecentKey(ERASED), values: [{ itemId: "6" }] },
        ],
        { maxLength: 10 },
      );
      await cache.addToSets([{ key: sharedSeenKey(ERASED), members: ["5", "6"] }]);
    }
    // Cached answers for the user on both instances, and for user "1" (which must stay).
    for (const instance of [a, b]) {
      expect((await call(instance, `/recommend/${ERASED}?k=5`, { key: clientKey })).status).toBe(
        200,
      );
      expect((await call(instance, "/recommend/1?k=5", { key: clientKey })).status).toBe(200);
      expect(instance.runtime.history.count(ERASED)).toBeGreaterThan(0);
    }
    for (const cache of caches) expect(await cache.entriesMentioning(ERASED)).toHaveLength(4);

    const exported = await call(a, `/users/${ERASED}/export`, { key: adminKey });
    expect(exported.status).toBe(200);
    // by hand (user-data-fixture): 4 watches and 2 clicks
    expect(exported.body.events.map((event: { eventId: string }) => event.eventId).sort()).toEqual([
      "c-0",
      "c-1",
      "w-0",
      "w-3",
      "w-6",
      "w-9",
    ]);
    expect(exported.body.events[0].event.userId).toBe(ERASED);
    expect(exported.body.experiments).toMatchObject([
      {
        experimentKey: "exp-a",
        variant: "control",
        exposures: 3,
        clicks: 1,
        hours: [
          { hour: "2026-01-02T09:00:00.000Z", source: "stream", exposures: 1, clicks: 0 },
          { hour: "2026-01-02T10:00:00.000Z", source: "api", exposures: 0, clicks: 1 },
          { hour: "2026-01-02T10:00:00.000Z", source: "stream", exposures: 2, clicks: 0 },
        ],
      },
    ]);
    expect(exported.body.cached.sharedSeenItems).toEqual(["5", "6"]);
    expect(exported.body.profile).not.toBeNull();
    expect(exported.body.deletion).toBeNull();

    const before = await scanParquet(snapshotsRoot, ERASED);
    expect(before.perUser[ERASED]).toBe(6);
    expect(before.mentioning).toBe(6);
    const othersBefore = { ...before.perUser };
    delete othersBefore[ERASED];
    const statsBefore = await db.prisma.experimentUserStat.count({
      where: { userId: { not: ERASED } },
    });
    const profilesBefore = await db.prisma.user.count({ where: { externalId: { not: ERASED } } });

    const deleted = await call(a, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      userId: ERASED,
      status: "done",
      requestedBy: "privacy-officer",
      removed: { snapshotFiles: 3, snapshotRows: 6, experimentStatRows: 4, userRows: 1 },
    });
    expect(deleted.body.removed.cacheEntries).toBeGreaterThanOrEqual(4);
    expect(deleted.body.completedAt).not.toBeNull();

    // Idempotent: asked again, the same request and its status.
    const again = await call(b, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(deleted.body);
    expect(await db.prisma.userDeletion.count()).toBe(1);

    // Instance b dropped the user's memory state and its cached answers (users topic).
    await waitFor(() => b.runtime.history.count(ERASED) === 0, { timeoutMs: 5_000 });
    expect(a.runtime.history.count(ERASED)).toBe(0);
    expect(a.runtime.history.items(ERASED)).toEqual([]);
    await waitFor(async () => (await caches[1]!.entriesMentioning(ERASED)).length === 0, {
      timeoutMs: 5_000,
    });

    await compactSnapshots(snapshotsRoot, { settleMs: 0 });
    const after = await scanParquet(snapshotsRoot, ERASED);
    expect(after.mentioning).toBe(0);
    expect(after.perUser).toEqual(othersBefore);
    expect(after.files).toBeLessThan(before.files); // the compaction merged the two hour-10 files

    for (const cache of caches) expect(await cache.entriesMentioning(ERASED)).toEqual([]);
    // User "1"'s cached answer is still there (only the deleted user's entries went).
    expect((await caches[0]!.entriesMentioning("rec:1:")).length).toBeGreaterThan(0);
    expect(await db.prisma.experimentUserStat.count({ where: { userId: ERASED } })).toBe(0);
    expect(await db.prisma.experimentUserStat.count({ where: { userId: { not: ERASED } } })).toBe(
      statsBefore,
    );
    expect(await db.prisma.experimentUserHourStat.count({ where: { userId: ERASED } })).toBe(0);
    expect(await db.prisma.experimentUserHourStat.count({ where: { userId: "1" } })).toBe(1);
    expect(await db.prisma.user.count({ where: { externalId: ERASED } })).toBe(0);
    expect(await db.prisma.user.count({ where: { externalId: { not: ERASED } } })).toBe(
      profilesBefore,
    );

    const afterExport = await call(a, `/users/${ERASED}/export`, { key: adminKey });
    expect(afterExport.status).toBe(200);
    expect(afterExport.body).toMatchObject({
      events: [],
      experiments: [],
      profile: null,
      cached: { recentItems: [], sharedRecentItems: [], sharedSeenItems: [] },
      deletion: { status: "done" },
    });
  });

  it("events of the user after the deletion are a new history; DELETE again removes them too", async () => {
    const [a] = instances as [CatalogInstance];
    const first = await db.prisma.userDeletion.findUniqueOrThrow({ where: { userId: ERASED } });
    expect(first.status).toBe("done");
    const sent = await call(a, "/feedback", {
      key: clientKey,
      body: { userId: ERASED, itemId: "9", type: "click" },
    });
    expect(sent.status).toBe(202);
    expect(a.runtime.history.count(ERASED)).toBe(1);
    // Still "done" until asked again: the deletion covered what was stored when it ran. Asked of
    // the instance holding the new event (instance b learns of it once the worker wrote it).
    const again = await call(a, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("done");
    expect(Date.parse(again.body.completedAt)).toBeGreaterThan(first.completedAt!.getTime());
    await waitFor(() => a.runtime.history.count(ERASED) === 0, { timeoutMs: 5_000 });
    expect(await db.prisma.userDeletion.count()).toBe(1);
  });

  it("a step that fails (event log closed) leaves the request pending (202); asked again elsewhere it finishes", async () => {
    const [a] = instances as [CatalogInstance];
    const ownBus = await openFileLogBus({ dir: path.join(dir, "events-closed") });
    await ownBus.ensureTopics(Object.values(topics));
    const lonely = await startCatalogInstance({
      db,
      cache: new KeyRecordingCache(),
      bus: ownBus,
      topics,
      snapshotsRoot,
    });
    try {
      await ownBus.close();
      const failed = await call(lonely, "/users/3", { method: "DELETE", key: adminKey });
      expect(failed.status).toBe(202);
      expect(failed.body).toMatchObject({ userId: "3", status: "pending", completedAt: null });
      // Its history went before the failing step; nothing else did.
      expect(lonely.runtime.history.count("3")).toBe(0);
      expect((await scanParquet(snapshotsRoot, "3")).perUser["3"]).toBeGreaterThan(0);
      const pending = await call(a, "/users/3/export", { key: adminKey });
      expect(pending.body.deletion.status).toBe("pending");
      expect(pending.body.events.length).toBeGreaterThan(0);
    } finally {
      await lonely.close();
    }
    // A pending request asked again is resumed (answered 202 at once, finished in the background).
    const resumed = await call(a, "/users/3", { method: "DELETE", key: adminKey });
    expect(resumed.status).toBe(202);
    await waitFor(
      async () => (await call(a, "/users/3", { method: "DELETE", key: adminKey })).status === 200,
      { timeoutMs: 15_000 },
    );
    // ("3" is in other payloads too, as a substring: counted by the user column here)
    expect((await scanParquet(snapshotsRoot, "3")).perUser["3"]).toBeUndefined();
    expect(a.runtime.history.count("3")).toBe(0);
  });
});
