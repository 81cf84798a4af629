import { rm, utimes } from "node:fs/promises";
import path from "node:path";
import { MemoryCache } from "@reco/cache";
import { topicForEvent, topicNames, type RecoEvent } from "@reco/contracts";
import { coveredOffset, listSnapshotFiles } from "@reco/snapshots";
import { createStreamWorker } from "@reco/stream";
import { waitFor } from "@reco/testkit";
import { pino, type Logger } from "pino";
import { expect, it } from "vitest";
import { embeddedStack, quietLogger } from "./helpers.ts";

// Embedded stack, no mocks: PGlite (the real embedded database), the LRU cache, the file log.
const topics = topicNames("hours");
const stack = embeddedStack("hours-", topics);
const snapshots = () => path.join(stack.dir, "snapshots");

let n = 0;
const response = (
  userId: string,
  recId: string,
  at: string,
  variant: string,
  served: { latencyMs?: number; status?: number; fallback?: boolean } = {},
): RecoEvent => ({
  schemaVersion: 1,
  eventId: `e${n++}`,
  eventTime: at,
  userId,
  type: "reco.response",
  recId,
  itemIds: ["i1"],
  modelVersion: "v1",
  experimentKey: "exp",
  variant,
  latencyMs: served.latencyMs ?? 5,
  cacheHit: false,
  fallback: served.fallback ?? false,
  status: served.status ?? 200,
});
const action = (type: "click" | "watch", userId: string, recId: string, at: string): RecoEvent => ({
  schemaVersion: 1,
  eventId: `e${n++}`,
  eventTime: at,
  userId,
  type,
  itemId: "i1",
  recId,
});

/** Publishes the events, runs a worker until every one is in a snapshot file, and stops it. */
async function deliver(events: RecoEvent[], logger: Logger = quietLogger): Promise<void> {
  const touched = [...new Set(events.map((event) => topicForEvent(topics, event)))];
  const ends = async (topic: string) =>
    new Map((await stack.bus.endOffsets(topic)).map((end) => [end.partition, end.offset]));
  const before = new Map(await Promise.all(touched.map(async (t) => [t, await ends(t)] as const)));
  for (const event of events)
    await stack.bus.publish(topicForEvent(topics, event), { key: event.userId, value: event });
  const worker = createStreamWorker({
    bus: stack.bus,
    topics,
    logger,
    cache: new MemoryCache({}),
    prisma: stack.db.prisma,
    config: {
      groupId: "hours",
      snapshotRoot: snapshots(),
      batchIntervalMs: 100,
      aggregateIntervalMs: 100,
      attributionWindowMs: 3_600_000,
    },
  });
  await worker.start();
  // Every partition these events went to is covered by a file (earlier files may be gone).
  await waitFor(
    async () => {
      for (const topic of touched)
        for (const [partition, offset] of await ends(topic))
          if (
            offset !== before.get(topic)?.get(partition) &&
            (await coveredOffset(snapshots(), topic, partition)) < BigInt(offset) - 1n
          )
            return false;
      return true;
    },
    { timeoutMs: 20_000 },
  );
  await worker.stop(); // runs the pending statistics
}

async function totals() {
  const rows = await stack.db.prisma.experimentUserStat.findMany({
    where: { experimentKey: "exp" },
    orderBy: [{ variant: "asc" }, { userId: "asc" }],
  });
  return rows.map(
    (r) =>
      `${r.variant}/${r.userId}: ${r.exposures} exposures, ${r.clicks} clicks, ${r.watches} watches, ` +
      `${r.responses} served, ${r.failures} failed, ${r.latencySumMs} ms, first ${r.firstExposure.toISOString().slice(11, 16)}`,
  );
}

async function hours() {
  const rows = await stack.db.prisma.experimentUserHourStat.findMany({
    where: { experimentKey: "exp" },
    orderBy: [{ variant: "asc" }, { userId: "asc" }, { hour: "asc" }],
  });
  return rows.map(
    (r) =>
      `${r.variant}/${r.userId} ${r.hour.toISOString().slice(11, 13)}h: ${r.exposures} ${r.clicks} ${r.watches}, ` +
      `served ${r.responses} failed ${r.failures} in ${r.latencySumMs} ms`,
  );
}

it("keeps per-user statistics per hour: late responses found by their time, hours outliving their files, and a rebuild of a database without hours", async () => {
  // u1's two responses go in one batch, so the 15:10 one sits in hour=09's directory, hours away
  // from its own.
  await deliver([
    // failed responses: a 500, and an answer of the fallback
    response("u1", "ra1", "2026-01-05T09:10:00Z", "a"),
    response("u2", "rb1", "2026-01-05T09:20:00Z", "b", { latencyMs: 40, status: 500 }),
    response("u1", "ra2", "2026-01-05T15:10:00Z", "a", { latencyMs: 7, fallback: true }),
    action("click", "u1", "ra1", "2026-01-05T09:40:00Z"),
    // 70 minutes after its response: outside the one-hour window.
    action("click", "u2", "rb1", "2026-01-05T10:30:00Z"),
    action("watch", "u1", "ra2", "2026-01-05T15:30:00Z"),
  ]);
  const responseFiles = await listSnapshotFiles(snapshots(), { topic: topics.responses });
  expect(responseFiles.every((file) => file.hour === "09")).toBe(true);
  expect(await hours()).toEqual([
    "a/u1 09h: 1 1 0, served 1 failed 0 in 5 ms",
    "a/u1 15h: 1 0 1, served 1 failed 1 in 7 ms",
    "b/u2 09h: 1 0 0, served 1 failed 1 in 40 ms",
  ]);
  expect(await totals()).toEqual([
    "a/u1: 2 exposures, 1 clicks, 1 watches, 2 served, 1 failed, 12 ms, first 09:10",
    "b/u2: 1 exposures, 0 clicks, 0 watches, 1 served, 1 failed, 40 ms, first 09:20",
  ]);

  // A watch of the 15:10 response comes in a later batch: its run reads the response from the file
  // in hour=09's directory, for the minute aggregates and for u1's hour 15 alike.
  await deliver([action("watch", "u1", "ra2", "2026-01-05T15:40:00Z")]);
  const minute = await stack.db.prisma.metricAggregate.findMany({
    where: { minute: new Date("2026-01-05T15:40:00Z") },
  });
  expect(minute).toMatchObject([
    { experimentKey: "exp", variant: "a", watches: 1, impressions: 0 },
  ]);
  expect(await hours()).toEqual([
    "a/u1 09h: 1 1 0, served 1 failed 0 in 5 ms",
    "a/u1 15h: 1 0 2, served 1 failed 1 in 7 ms",
    "b/u2 09h: 1 0 0, served 1 failed 1 in 40 ms",
  ]);

  // Retention removes every file so far; new events recompute u1's recent hours only, and the
  // totals still count the hours whose files are gone.
  for (const topic of Object.values(topics))
    for (const file of await listSnapshotFiles(snapshots(), { topic })) await rm(file.path);
  await deliver([
    response("u1", "ra3", "2026-01-05T18:05:00Z", "a"),
    action("click", "u1", "ra3", "2026-01-05T18:10:00Z"),
  ]);
  expect(await hours()).toEqual([
    "a/u1 09h: 1 1 0, served 1 failed 0 in 5 ms",
    "a/u1 15h: 1 0 2, served 1 failed 1 in 7 ms",
    "a/u1 18h: 1 1 0, served 1 failed 0 in 5 ms",
    "b/u2 09h: 1 0 0, served 1 failed 1 in 40 ms",
  ]);
  expect(await totals()).toEqual([
    "a/u1: 3 exposures, 2 clicks, 2 watches, 3 served, 1 failed, 17 ms, first 09:10",
    "b/u2: 1 exposures, 0 clicks, 0 watches, 1 served, 1 failed, 40 ms, first 09:20",
  ]);

  // A database from before hours were kept: totals (here wrong), no hours. The files are a day old
  // (nothing to recover), yet the start rebuilds every hour the files hold: u1's hour 18. u2 has no
  // file left, so its row is left as it was.
  await stack.db.prisma.experimentUserHourStat.deleteMany({});
  await stack.db.prisma.experimentUserStat.updateMany({ data: { exposures: 99 } });
  const dayAgo = new Date(Date.now() - 86_400_000);
  for (const topic of Object.values(topics))
    for (const file of await listSnapshotFiles(snapshots(), { topic }))
      await utimes(file.path, dayAgo, dayAgo);
  const logged: { msg: string; files?: number; userHours?: number }[] = [];
  await deliver(
    [],
    pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) }),
  );
  expect(
    logged.filter((line) => line.msg.startsWith("experiment statistics per hour are missing")),
  ).toMatchObject([{ files: 1, userHours: 1 }]);
  expect(await hours()).toEqual(["a/u1 18h: 1 1 0, served 1 failed 0 in 5 ms"]);
  expect(await totals()).toEqual([
    "a/u1: 1 exposures, 1 clicks, 0 watches, 1 served, 0 failed, 5 ms, first 18:05",
    "b/u2: 99 exposures, 0 clicks, 0 watches, 1 served, 1 failed, 40 ms, first 09:20",
  ]);
}, 90_000);
