import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { connectKafkaBus, openFileLogBus, type EventBus, type OutgoingMessage } from "@reco/bus";
import { topicForEvent, topicNames, type RecoEvent, type TopicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { coveredOffset, querySnapshots } from "@reco/snapshots";
import { createStreamWorker, type StreamWorker } from "@reco/stream";
import { uniqueName, waitFor } from "@reco/testkit";
import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";

export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const BASE_TIME = Date.parse("2026-01-05T10:00:00Z");

/** Event number `i` of a deterministic mix over every consumed topic; eventId = `ev-<i>`. */
export function sampleEvent(i: number): RecoEvent {
  const envelope = {
    schemaVersion: 1 as const,
    eventId: `ev-${i}`,
    // 10 events per second of event time, so a run spans several minutes and hours boundaries rarely.
    eventTime: new Date(BASE_TIME + i * 100).toISOString(),
    userId: `user-${i % 997}`,
  };
  switch (i % 5) {
    case 0:
      return {
        ...envelope,
        type: "watch",
        itemId: `item-${i % 211}`,
        progress: 0.5,
        context: { device: "tv" },
      };
    case 1:
      return { ...envelope, type: "rate", itemId: `item-${i % 211}`, rating: 1 + (i % 9) / 2 };
    case 2:
      return { ...envelope, type: "click", itemId: `item-${i % 211}`, recId: `rec-${i - 1}` };
    case 3:
      return { ...envelope, type: "reco.request", recId: `rec-${i}`, k: 10 };
    default:
      return {
        ...envelope,
        type: "reco.response",
        recId: `rec-${i - 2}`,
        itemIds: [`item-${i % 211}`],
        modelVersion: "ials@1",
        latencyMs: 5 + (i % 40),
        cacheHit: i % 3 === 0,
        fallback: i % 11 === 0,
        status: 200,
      };
  }
}

/** Publishes events [from, to) grouped by topic, `chunk` per request. */
export async function publishEvents(
  bus: EventBus,
  topics: TopicNames,
  from: number,
  to: number,
  chunk = 2_000,
) {
  for (let start = from; start < to; start += chunk) {
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (let i = start; i < Math.min(to, start + chunk); i++) {
      const event = sampleEvent(i);
      const topic = topicForEvent(topics, event);
      const list = byTopic.get(topic) ?? [];
      // Broker time, as the product's producers send: a message stamped with its (months old)
      // event time falls under the broker's 7-day retention and is deleted before it is read.
      list.push({ key: event.userId, value: event });
      byTopic.set(topic, list);
    }
    await Promise.all([...byTopic].map(([topic, messages]) => bus.publishBatch(topic, messages)));
  }
}

export const consumed = (topics: TopicNames) => [
  topics.watch,
  topics.rate,
  topics.click,
  topics.requests,
  topics.responses,
];

/** True once every record published so far is covered by a snapshot file. */
export async function allCovered(
  bus: EventBus,
  root: string,
  topicList: string[],
): Promise<boolean> {
  for (const topic of topicList) {
    for (const { partition, offset } of await bus.endOffsets(topic)) {
      if ((await coveredOffset(root, topic, partition)) < BigInt(offset) - 1n) return false;
    }
  }
  return true;
}

/** True once the group has committed every record published so far (files and dead letters done). */
export async function allCommitted(
  bus: EventBus,
  groupId: string,
  topicList: string[],
): Promise<boolean> {
  for (const topic of topicList) {
    const committed = await bus.committedOffsets(groupId, topic);
    for (const { partition, offset } of await bus.endOffsets(topic)) {
      if (offset !== "0" && committed.find((c) => c.partition === partition)?.offset !== offset)
        return false;
    }
  }
  return true;
}

export async function snapshotCounts(root: string): Promise<{ rows: number; distinct: number }> {
  const [row] = await querySnapshots<{ rows: bigint; ids: bigint }>(
    root,
    "SELECT count(*) AS rows, count(DISTINCT event_id) AS ids FROM {source}",
  );
  return { rows: Number(row?.rows ?? 0), distinct: Number(row?.ids ?? 0) };
}

/** The real entry point (src/main.ts) as a child process. */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  // Only the services the test names: the shared ones exported for other suites must not leak in.
  const inherited = { ...process.env };
  for (const name of [
    "KAFKA_BROKERS",
    "REDIS_URL",
    "DATABASE_URL",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PREFIX",
  ])
    delete inherited[name];
  const child = spawn(process.execPath, ["--import", "tsx", path.join(appDir, "src/main.ts")], {
    cwd: appDir,
    env: {
      ...inherited,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      WORKER_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** SIGTERM and wait: the worker flushes and commits; resolves with the exit code. */
export async function stopGracefully(
  child: ChildProcess,
  timeoutMs = 30_000,
): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The shared broker's address for the *.kafka tests (`npm test` exports it). */
export function sharedKafkaBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error(
      'KAFKA_BROKERS is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`',
    );
  }
  return brokers;
}

export interface KafkaTestFixture {
  brokers: string;
  topics: TopicNames;
  groupId: string;
  /** A temp dir of the test file's own (set before its tests run). */
  dir: string;
  /** A producer on the shared broker (set before the tests run). */
  bus: EventBus;
  /** The worker under test, if any: stopped after all tests. */
  worker?: StreamWorker;
}

/** Fresh topics (`partitions` each), a temp dir and a producer on the shared broker for one test file. */
export function kafkaTestFixture(name: string, partitions: number): KafkaTestFixture {
  const fixture = {
    brokers: sharedKafkaBrokers(),
    topics: topicNames(uniqueName(name)),
    groupId: uniqueName(`${name}-workers`),
  } as KafkaTestFixture;
  beforeAll(async () => {
    fixture.dir = await mkdtemp(path.join(tmpdir(), `${name}-`));
    fixture.bus = await connectKafkaBus({ brokers: fixture.brokers, clientId: `${name}-test` });
    await fixture.bus.ensureTopics(Object.values(fixture.topics), partitions);
  });
  afterAll(async () => {
    await fixture.worker?.stop();
    await fixture.bus?.close();
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

/** Starts a worker on the fixture's topics (snapshots under its dir) and waits until it has committed everything published. */
export async function startWorkerUntilCommitted(fixture: KafkaTestFixture): Promise<StreamWorker> {
  const worker = createStreamWorker({
    bus: fixture.bus,
    topics: fixture.topics,
    logger: quietLogger,
    config: {
      groupId: fixture.groupId,
      snapshotRoot: path.join(fixture.dir, "snapshots"),
      batchIntervalMs: 200,
    },
  });
  fixture.worker = worker;
  await worker.start();
  await waitFor(() => allCommitted(fixture.bus, fixture.groupId, consumed(fixture.topics)), {
    timeoutMs: 60_000,
    intervalMs: 250,
    description: "the worker to commit every record",
  });
  return worker;
}

/**
 * The embedded stack for a test file, no mocks: a file-log bus with `topics` and a PGlite database
 * in a new temporary directory, opened before its tests and closed (and removed) after them.
 */
export function embeddedStack(
  prefix: string,
  topics: TopicNames,
): { dir: string; bus: EventBus; db: Database } {
  const stack = {} as { dir: string; bus: EventBus; db: Database };
  beforeAll(async () => {
    stack.dir = await mkdtemp(path.join(tmpdir(), prefix));
    stack.bus = await openFileLogBus({ dir: path.join(stack.dir, "events"), pollIntervalMs: 20 });
    await stack.bus.ensureTopics(Object.values(topics));
    stack.db = await openDatabase({ dataDir: stack.dir });
  }, 120_000);
  afterAll(async () => {
    await stack.bus?.close();
    await stack.db?.close();
    if (stack.dir) await rm(stack.dir, { recursive: true, force: true });
  });
  return stack;
}
