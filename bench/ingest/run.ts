/**
 * Ingest throughput: events/s through the stream worker (consume → validate → Parquet → commit)
 * against a raw kafkajs consume-and-discard loop over the same topic, in the same run.
 * Targets: ≥ 50,000 events/s and ≥ 50 % of the raw loop.
 *
 *   eval "$(bash scripts/services.sh env)"
 *   npx tsx bench/ingest/run.ts                 # 1,000,000 events, 3 rounds (about a minute)
 *   npx tsx bench/ingest/run.ts --events 100000 --rounds 1
 *   npx tsx bench/ingest/run.ts --features     # as deployed: real-time features into the cache
 *                                              # (Redis at REDIS_URL, else in-process)
 *
 * Rounds alternate raw loop and worker over the same topic (fresh consumer groups each time); the
 * ratio is taken per round and the median reported, so a slow spell of the machine hits both sides.
 *
 * Both clocks start when the consumer has its partitions (group join excluded) and stop when the
 * last record is handled: discarded by the raw loop, committed (after its file) by the worker.
 * CPU is taken over the same window (thread start-up excluded) and set against what the machine
 * has: at half the raw loop's speed the worker may spend at most cores × 2 × (raw seconds per
 * event) of CPU per event, the broker's share included.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectKafkaBus, type EventBus, type OutgoingMessage } from "@reco/bus";
import { createCache, type Cache } from "@reco/cache";
import { topicNames, type WatchEvent } from "@reco/contracts";
import { createStreamWorker, measureIngestStages } from "@reco/stream";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    partitions: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    features: { type: "boolean", default: false },
  },
});
const total = Number(values.events);
const partitions = Number(values.partitions);
const rounds = Number(values.rounds);
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  console.error(
    'KAFKA_BROKERS is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`',
  );
  process.exit(1);
}
if (!(total > 0) || !(partitions > 0) || !(rounds > 0)) {
  console.error("--events, --partitions and --rounds must be positive numbers");
  process.exit(1);
}

const run = `bench_${Date.now().toString(36)}`;
const topics = topicNames(run);
const t0 = Date.parse("2026-01-05T10:00:00Z");

function event(i: number): WatchEvent {
  return {
    schemaVersion: 1,
    eventId: `ev-${i}`,
    eventTime: new Date(t0 + i * 10).toISOString(),
    userId: `user-${i % 50_000}`,
    type: "watch",
    itemId: `item-${i % 9_000}`,
    progress: (i % 100) / 100,
    recId: i % 4 === 0 ? `rec-${i >> 2}` : undefined,
    context: { device: i % 2 ? "web" : "tv", country: "FR" },
  };
}

/** CPU spent in a timed window: the whole process and its main thread, in µs per event. */
interface WindowCpu {
  process: number;
  main: number;
}

interface Timed {
  seconds: number;
  cpu: WindowCpu;
  /** Redis's and the broker's CPU over the same window, µs per event (when they can be read). */
  services?: ServiceCpu;
}

interface ServiceCpu {
  redis: number;
  broker: number;
}

/**
 * The CPU of the services the worker leans on, read at both ends of a window: Redis's own
 * counters (INFO cpu, shared with whatever else uses that Redis) and the broker's process when it
 * runs on this machine (/proc). NaN for what cannot be read.
 */
async function startServiceWindow(): Promise<() => Promise<ServiceCpu>> {
  const redis = await redisCpuSeconds();
  const broker = brokerCpuSeconds();
  return async () => ({
    redis: (((await redisCpuSeconds()) - redis) * 1e6) / total,
    broker: ((brokerCpuSeconds() - broker) * 1e6) / total,
  });
}

let redisStats: Redis | null = null;
async function redisCpuSeconds(): Promise<number> {
  if (!process.env.REDIS_URL) return Number.NaN;
  redisStats ??= new Redis(process.env.REDIS_URL);
  const info = await redisStats.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

function closeServiceStats(): void {
  redisStats?.disconnect();
  redisStats = null;
}

/** User + system CPU of the local Kafka broker (a JVM running kafka.Kafka), NaN if none. */
let brokerPid: string | null | undefined;
function brokerCpuSeconds(): number {
  try {
    if (brokerPid === undefined) {
      brokerPid = null;
      for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("kafka.Kafka")) brokerPid = pid;
        } catch {
          // gone meanwhile
        }
      }
    }
    if (!brokerPid) return Number.NaN;
    const stat = readFileSync(`/proc/${brokerPid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

function startCpuWindow(): () => WindowCpu {
  const usage = process.cpuUsage();
  const main = mainThreadCpuMs();
  return () => {
    const spent = process.cpuUsage(usage);
    return {
      process: (spent.user + spent.system) / total,
      main: ((mainThreadCpuMs() - main) * 1000) / total,
    };
  };
}

const perEvent = (cpu: WindowCpu) =>
  `${cpu.process.toFixed(1)} (main thread ${Number.isNaN(cpu.main) ? "n/a" : cpu.main.toFixed(1)})`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** CPU time of this process's main thread in ms (Linux /proc; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

async function produce(bus: EventBus): Promise<void> {
  const started = performance.now();
  const chunk = 10_000;
  for (let start = 0; start < total; start += chunk) {
    const messages: OutgoingMessage[] = [];
    for (let i = start; i < Math.min(total, start + chunk); i++) {
      const e = event(i);
      messages.push({ key: e.userId, value: e });
    }
    await bus.publishBatch(topics.watch, messages);
  }
  console.log(
    `produced ${total.toLocaleString()} events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function rawLoop(round: number): Promise<Timed> {
  const kafka = new Kafka({
    clientId: "bench-raw",
    brokers: brokers!.split(","),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `${run}-raw-${round}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.watch], fromBeginning: true });
  let seen = 0;
  let started = 0;
  let stopCpu: (() => WindowCpu) | null = null;
  let done!: (timed: Timed) => void;
  const finished = new Promise<Timed>((resolve) => (done = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    started ||= performance.now();
    stopCpu ??= startCpuWindow();
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= total) done({ seconds: (performance.now() - started) / 1000, cpu: stopCpu!() });
    },
  });
  const timed = await finished;
  await consumer.disconnect();
  return timed;
}

async function workerLoop(producer: EventBus, round: number): Promise<Timed> {
  const root = await mkdtemp(path.join(tmpdir(), "bench-ingest-"));
  const bus = await connectKafkaBus({ brokers: brokers!, clientId: "bench-worker" });
  const groupId = `${run}-worker-${round}`;
  const cache = values.features ? await featureCache() : undefined;
  const worker = createStreamWorker({
    bus,
    topics,
    cache,
    logger: pino({ level: "warn" }),
    // A short interval so the tail of each partition does not wait out the 30 s default.
    config: {
      groupId,
      snapshotRoot: root,
      batchIntervalMs: 250,
      batchMaxRecords: 50_000,
      fetchBatchSize: 10_000,
      lagSampleIntervalMs: 0,
    },
  });
  try {
    await worker.start();
    const stopServices = await startServiceWindow();
    const started = performance.now();
    const stopCpu = startCpuWindow();
    const end = await producer.endOffsets(topics.watch);
    for (;;) {
      const committed = await producer.committedOffsets(groupId, topics.watch);
      if (
        end.every(
          ({ partition, offset }) =>
            committed.find((c) => c.partition === partition)?.offset === offset,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = stopCpu();
    return { seconds, cpu, services: await stopServices() };
  } finally {
    await worker.stop();
    await cache?.close();
    await bus.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** Where the worker's real-time features go with --features (they make it keep decoded events). */
function featureCache(): Promise<Cache> {
  const url = process.env.REDIS_URL;
  return url
    ? createCache({ kind: "redis", url, namespace: `${run}:` })
    : createCache({ kind: "memory" });
}

const producer = await connectKafkaBus({ brokers, clientId: "bench-producer" });
try {
  await producer.ensureTopics(Object.values(topics), partitions);
  await produce(producer);
  if (values.features)
    console.log(
      `worker with real-time features in ${process.env.REDIS_URL ? "Redis" : "the in-process cache"}`,
    );
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const ratios: number[] = [];
  const rates: number[] = [];
  const cores = availableParallelism();
  const rawCpu: number[] = [];
  const budgets: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const rawRun = await rawLoop(round);
    const workerRun = await workerLoop(producer, round);
    const raw = total / rawRun.seconds;
    const worker = total / workerRun.seconds;
    ratios.push(worker / raw);
    rates.push(worker);
    console.log(
      `round ${round}: raw kafkajs consume-and-discard ${Math.round(raw).toLocaleString()} events/s (${rawRun.seconds.toFixed(2)} s); ` +
        `stream worker (validate → Parquet → commit) ${Math.round(worker).toLocaleString()} events/s (${workerRun.seconds.toFixed(2)} s); ` +
        `ratio ${((worker / raw) * 100).toFixed(1)} %`,
    );
    // At half the raw loop's speed, this is all the CPU per event the machine has (broker included).
    const budget = ((cores * 2 * rawRun.seconds) / total) * 1e6;
    rawCpu.push(rawRun.cpu.process);
    budgets.push(budget);
    console.log(
      `  CPU µs per event in the timed window: raw ${perEvent(rawRun.cpu)}, ` +
        `worker ${perEvent(workerRun.cpu)}; at 50 % of raw, ${cores} cores give at most ${budget.toFixed(1)}`,
    );
    const services = workerRun.services;
    if (services)
      console.log(
        `  with the worker: Redis ${services.redis.toFixed(2)}, broker ${services.broker.toFixed(2)} CPU µs per event; ` +
          `load average ${loadavg()
            .map((l) => l.toFixed(2))
            .join(" ")}`,
      );
  }
  const ratio = median(ratios);
  const rate = median(rates);
  console.log(
    `\nmedian of ${rounds}: worker ${Math.round(rate).toLocaleString()} events/s, ${(ratio * 100).toFixed(1)} % of the raw loop`,
  );
  console.log(
    `targets: ≥ 50,000 events/s ${rate >= 50_000 ? "met" : "MISSED"}; ≥ 50 % of raw ${ratio >= 0.5 ? "met" : "MISSED"}`,
  );
  // What the worker adds to consuming, each stage alone on one thread, with the same events.
  const sample = Array.from({ length: Math.min(total, 150_000) }, (_, i) =>
    Buffer.from(JSON.stringify(event(i))),
  );
  const stages = await measureIngestStages(sample);
  const consume = median(rawCpu);
  const floor = consume + stages.validate + stages.write;
  const budget = median(budgets);
  console.log(
    `\nCPU µs per event, each stage alone: consume (the raw loop's, broker excluded) ${consume.toFixed(2)} + ` +
      `validate ${stages.validate.toFixed(2)} + write ${stages.write.toFixed(2)} = ${floor.toFixed(2)}, ` +
      `before hand-offs between threads, copies, garbage collection and idle time; ` +
      `at 50 % of raw this machine gives ${budget.toFixed(2)} (median)`,
  );
} finally {
  await producer.close();
  closeServiceStats();
  if (values.features && process.env.REDIS_URL) await dropFeatureKeys(process.env.REDIS_URL);
}

/**
 * The run's feature keys (a list per user, days of TTL) go with it: left behind, every run adds
 * 50,000 keys that slow down the SCANs of the suites sharing this Redis.
 */
async function dropFeatureKeys(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for await (const keys of redis.scanStream({ match: `${run}:*`, count: 1000 }))
      if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
  } finally {
    redis.disconnect();
  }
}
