import { createHook } from "node:async_hooks";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { busContractSuite, startCollecting, uniqueName, waitFor } from "@reco/bus/contract";
import { freePort } from "@reco/testkit";
import {
  BusUnavailable,
  CommitRejected,
  connectKafkaBus,
  createEventBus,
  type BusConsumer,
  type KafkaBus,
} from "../src/index.ts";

const KAFKA_BROKERS = process.env.KAFKA_BROKERS;
if (!KAFKA_BROKERS) {
  throw new Error(
    "KAFKA_BROKERS is not set: this suite runs against a real Kafka broker. Run `bash scripts/services.sh up` and " +
      '`eval "$(bash scripts/services.sh env)"` first.',
  );
}
const brokers: string = KAFKA_BROKERS;

/** Tight group timings (6 s is the broker's minimum session timeout) so rebalances take ~1 s. */
const timing = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 6_000,
  maxWaitTimeMs: 200,
};
const connect = () =>
  connectKafkaBus({
    brokers,
    clientId: "bus-test",
    operationTimeoutMs: 20_000,
    consumerTiming: timing,
  });

/** A bus logger that keeps the messages of its warnings and errors. */
function warningsAndErrors() {
  const lines: string[] = [];
  const keep = (_: object, msg: string) => void lines.push(msg);
  return {
    lines,
    logger: { debug: () => undefined, info: () => undefined, warn: keep, error: keep },
  };
}

busContractSuite("kafka", async () => {
  const bus = await connect();
  return { bus, cleanup: () => bus.close() };
});

describe("kafka adapter", () => {
  let bus: KafkaBus | undefined;
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  // contract: restart (kill -9: handed over after the session timeout)
  it("redelivers the records of a consumer process killed with SIGKILL before it committed", async () => {
    bus = await connect();
    const topic = uniqueName("sigkill");
    const groupId = uniqueName("sigkill-group");
    await bus.ensureTopics([topic], 3);
    await bus.publishBatch(
      topic,
      Array.from({ length: 12 }, (_, i) => ({ key: `user-${i}`, value: { seq: i } })),
    );

    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/consume-without-commit.ts", import.meta.url)),
      ],
      {
        env: { ...process.env, KAFKA_BROKERS: brokers, TOPIC: topic, GROUP: groupId },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const seenByChild = new Set<string>();
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n"))
        if (line.startsWith("RECEIVED ")) seenByChild.add(line.slice(9));
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    try {
      await waitFor(
        "the child to receive all 12 records",
        () => seenByChild.size === 12,
        30_000,
        () => ({ got: seenByChild.size, stderr }),
      );
    } finally {
      child.kill("SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");
    expect(await bus.committedOffsets(groupId, topic)).toEqual(
      [0, 1, 2].map((partition) => ({ partition, offset: null })),
    );

    const started = Date.now();
    const heir = await startCollecting(bus, { groupId, topics: [topic] });
    await waitFor(
      "the 12 records again",
      () => heir.received.length >= 12,
      30_000,
      () => heir.received.length,
    );
    expect(heir.received.map((m) => `${m.partition}:${m.offset}`).sort()).toEqual(
      [...seenByChild].sort(),
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    await heir.consumer.stop();
  });

  // contract: stop (Kafka: a commit inside the last callback is rejected)
  it("rejects a commit from onPartitionsRevoked while it stops: the group has moved on", async () => {
    bus = await connect();
    const topic = uniqueName("revoke-commit");
    const groupId = uniqueName("revoke-commit-group");
    await bus.ensureTopics([topic], 3);
    await bus.publishBatch(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: `user-${i}`, value: { seq: i } })),
    );
    const holder: { consumer?: BusConsumer } = {};
    const outcome: { revoked?: number; commit?: unknown } = {};
    const c = await startCollecting(bus, {
      groupId,
      topics: [topic],
      bind: (consumer) => (holder.consumer = consumer),
      onPartitionsRevoked: async (partitions) => {
        outcome.revoked = partitions.length;
        outcome.commit = await holder
          .consumer!.commit(partitions.map((tp) => ({ ...tp, offset: "1" })))
          .then(
            () => "committed",
            (error: unknown) => error,
          );
      },
    });
    await waitFor(
      "6 records",
      () => c.received.length === 6,
      20_000,
      () => c.received.length,
    );
    await c.consumer.stop();
    expect(outcome.revoked).toBe(3);
    expect(outcome.commit).toBeInstanceOf(CommitRejected);
    expect(await bus.committedOffsets(groupId, topic)).toEqual(
      [0, 1, 2].map((partition) => ({ partition, offset: null })),
    );
  });

  it("fails fast with a clear error when no broker answers, routing kafkajs logs to the given logger", async () => {
    const port = await freePort();
    const started = Date.now();
    const { lines, logger } = warningsAndErrors();
    const error = await connectKafkaBus({
      logger,
      brokers: `127.0.0.1:${port}`,
      clientId: "bus-test",
      operationTimeoutMs: 10_000,
      connectionTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusUnavailable);
    expect((error as Error).message).toContain(`Kafka at 127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(lines.some((line) => line.startsWith("kafkajs: ") && /connect/i.test(line))).toBe(true);
  });

  it("a batch the broker refuses for good (over its 1 MB message limit) fails at once with the broker's reason, and the next batch is stored", async () => {
    bus = await connect();
    const topic = uniqueName("too-large");
    await bus.ensureTopics([topic], 3);
    const started = Date.now();
    const refused = await bus
      .publish(topic, { key: "u", value: { blob: "x".repeat(1_100_000) } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusUnavailable);
    expect((refused as Error).message).toMatch(/larger than|too large/i);
    // Not sent again and again until the 20 s deadline: refused for good is known at once.
    expect(Date.now() - started).toBeLessThan(10_000);
    await bus.publish(topic, { key: "u", value: { seq: 1 } });
    const offsets = await bus.endOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(1);
  });

  it("publishes waiting together only up to the broker's batch limit: two of 600 kB for one partition are both stored", async () => {
    bus = await connect();
    const topic = uniqueName("merge-bound");
    await bus.ensureTopics([topic], 3);
    const big = (seq: number) => ({ key: "u", value: { seq, blob: "x".repeat(600_000) } });
    // The first occupies the single send in flight, so the two big ones wait for the next one.
    const sent = await Promise.allSettled([
      bus.publish(topic, { key: "u", value: { seq: 0 } }),
      bus.publish(topic, big(1)),
      bus.publish(topic, big(2)),
    ]);
    expect(sent.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    const offsets = await bus.endOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(3);
  });

  it("ensures topics that already exist without an error in the log, and creates the missing ones", async () => {
    const { lines, logger } = warningsAndErrors();
    const existing = uniqueName("exists");
    const first = await connect();
    try {
      await first.ensureTopics([existing]);
    } finally {
      await first.close();
    }
    bus = await connectKafkaBus({
      brokers,
      clientId: "bus-test",
      logger,
      operationTimeoutMs: 20_000,
    });
    const created = uniqueName("created");
    await bus.ensureTopics([existing, created]);
    expect(await bus.endOffsets(created)).toHaveLength(3);
    expect(lines).toEqual([]);
  });

  // kafkajs 2.2.4 re-arms a 1 ms timer per connection for as long as it is open, even with nothing
  // to send (kafkajs#1556): idle CPU, and an allocation rate that keeps V8 from shrinking its heap
  // at rest. patches/kafkajs+2.2.4.patch (applied by npm ci) stops it; this fails without it.
  it("an idle connection re-arms no timer loop: under 50 timers a second once the records are sent", async () => {
    bus = await connect();
    const topic = uniqueName("idle");
    await bus.ensureTopics([topic]);
    await bus.publishBatch(topic, [{ key: "u", value: { seq: 0 } }]);
    await bus.endOffsets(topic);
    let timers = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === "Timeout") timers++;
      },
    }).enable();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      hook.disable();
    }
    expect(timers).toBeLessThan(50);
  });

  it("is what createEventBus builds when kafkaBrokers is set", async () => {
    const created = await createEventBus({
      kafkaBrokers: brokers,
      dataDir: "/nonexistent",
      clientId: "bus-test",
    });
    try {
      expect(created.kind).toBe("kafka");
      const topic = uniqueName("factory");
      await created.ensureTopics([topic]);
      expect(await created.endOffsets(topic)).toHaveLength(3);
    } finally {
      await created.close();
    }
  });
});
