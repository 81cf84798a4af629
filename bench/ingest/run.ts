/**
 * Ingest throughput: events/s through the stream worker (consume → validate → Parquet → commit)
 * against a raw kafkajs consume-and-discard loop over the same topic, in the same run.
 * Targets: ≥ 50,000 events/s and ≥ 50 % of the raw loop.
 *
 *   eval "$(bash scripts/services.sh env)"
 *   npx tsx bench/ingest/run.ts                 # 1,000,000 events, 3 rounds (about a minute)
 *   npx tsx bench/ingest/run.ts --events 100000 --rounds 1
 *
 * Rounds alternate raw loop and worker over the same topic (fresh consumer groups each time); the
 * ratio is taken per round and the median reported, so a slow spell of the machine hits both sides.
 *
 * Both clocks start when the consumer has its partitions (group join excluded) and stop when the
 * last record is handled: discarded by the raw loop, committed (after its file) by the worker.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectKafkaBus, type EventBus, type OutgoingMessage } from "@reco/bus";
import { topicNames, type WatchEvent } from "@reco/contracts";
import { createStreamWorker } from "@reco/stream";
import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    partitions: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
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

function perEvent(usage: NodeJS.CpuUsage): string {
  return ((usage.user + usage.system) / total).toFixed(1);
}

function perEventMs(ms: number): string {
  return Number.isNaN(ms) ? "n/a" : ((ms * 1000) / total).toFixed(1);
}

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

async function rawLoop(round: number): Promise<number> {
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
  let done!: (seconds: number) => void;
  const finished = new Promise<number>((resolve) => (done = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => (started ||= performance.now()));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= total) done((performance.now() - started) / 1000);
    },
  });
  const seconds = await finished;
  await consumer.disconnect();
  return seconds;
}

async function workerLoop(producer: EventBus, round: number): Promise<number> {
  const root = await mkdtemp(path.join(tmpdir(), "bench-ingest-"));
  const bus = await connectKafkaBus({ brokers: brokers!, clientId: "bench-worker" });
  const groupId = `${run}-worker-${round}`;
  const worker = createStreamWorker({
    bus,
    topics,
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
    const started = performance.now();
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
    return (performance.now() - started) / 1000;
  } finally {
    await worker.stop();
    await bus.close();
    await rm(root, { recursive: true, force: true });
  }
}

const producer = await connectKafkaBus({ brokers, clientId: "bench-producer" });
try {
  await producer.ensureTopics(Object.values(topics), partitions);
  await produce(producer);
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const ratios: number[] = [];
  const rates: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    let cpu = process.cpuUsage();
    let main = mainThreadCpuMs();
    const rawSeconds = await rawLoop(round);
    const rawCpu = process.cpuUsage(cpu);
    const rawMain = mainThreadCpuMs() - main;
    cpu = process.cpuUsage();
    main = mainThreadCpuMs();
    const workerSeconds = await workerLoop(producer, round);
    const workerCpu = process.cpuUsage(cpu);
    const workerMain = mainThreadCpuMs() - main;
    const raw = total / rawSeconds;
    const worker = total / workerSeconds;
    ratios.push(worker / raw);
    rates.push(worker);
    console.log(
      `round ${round}: raw kafkajs consume-and-discard ${Math.round(raw).toLocaleString()} events/s (${rawSeconds.toFixed(2)} s); ` +
        `stream worker (validate → Parquet → commit) ${Math.round(worker).toLocaleString()} events/s (${workerSeconds.toFixed(2)} s); ` +
        `ratio ${((worker / raw) * 100).toFixed(1)} %`,
    );
    console.log(
      `  CPU µs per event: raw ${perEvent(rawCpu)} (main thread ${perEventMs(rawMain)}), ` +
        `worker ${perEvent(workerCpu)} (main thread ${perEventMs(workerMain)}, other threads: validation, DuckDB, GC, I/O)`,
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
} finally {
  await producer.close();
}
