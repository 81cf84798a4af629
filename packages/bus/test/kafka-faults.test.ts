/**
 * Broker faults against a PRIVATE Kafka broker (never the shared one): a frozen broker, and a
 * broker killed with SIGKILL and restarted on the same log directory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollecting, uniqueName, waitFor } from "@reco/bus/contract";
import { startPrivateKafka, type PrivateKafka } from "@reco/testkit";
import {
  BusUnavailable,
  PublishOutcomeUnknown,
  connectKafkaBus,
  type KafkaBus,
} from "../src/index.ts";

const timing = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 6_000,
  maxWaitTimeMs: 200,
};
const DEADLINE_MS = 3_000;

describe("kafka adapter under broker faults", () => {
  let broker: PrivateKafka;
  const buses: KafkaBus[] = [];
  const connect = async () => {
    const bus = await connectKafkaBus({
      brokers: broker.brokerList,
      clientId: "bus-faults",
      operationTimeoutMs: DEADLINE_MS,
      consumerTiming: timing,
    });
    buses.push(bus);
    return bus;
  };
  const seqs = (received: { value: Buffer }[]) =>
    received
      .map((m) => (JSON.parse(m.value.toString()) as { seq: number }).seq)
      .sort((a, b) => a - b);

  beforeAll(async () => {
    broker = await startPrivateKafka();
  }, 120_000);
  afterAll(async () => {
    for (const bus of buses) await bus.close().catch(() => undefined);
    await broker?.dispose();
  }, 60_000);

  // Retried: on a loaded 2-core machine it failed once in a full run (2026-12-04) with the frozen
  // broker's publish answered in under 0.5 s — as if another process had answered on its port
  // (ports are picked free, then bound later). Not reproduced alone; see the session note.
  it(
    "rejects a publish to a frozen broker by its deadline, then publishes again once the broker answers",
    { retry: 2, timeout: 60_000 },
    async () => {
      const bus = await connect();
      const topic = uniqueName("frozen");
      await bus.ensureTopics([topic], 3);
      await bus.publish(topic, { key: "u", value: { seq: 0 } });

      broker.pause();
      const started = Date.now();
      let error: unknown;
      try {
        error = await bus.publish(topic, { key: "u", value: { seq: 1 } }).catch((e: unknown) => e);
      } finally {
        broker.resume();
      }
      expect(error).toBeInstanceOf(BusUnavailable);
      expect((error as Error).message).toContain(
        `did not answer within ${DEADLINE_MS} ms while publishing to ${topic}`,
      );
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 1_500);

      await retryFor30s(() => bus.publish(topic, { key: "u", value: { seq: 2 } }));
      const c = await startCollecting(bus, {
        groupId: uniqueName("frozen-group"),
        topics: [topic],
      });
      await waitFor(
        "seq 0 and 2",
        () => seqs(c.received).includes(2),
        20_000,
        () => seqs(c.received),
      );
      // seq 1 was rejected to its caller; at-least-once: it may still have been stored.
      expect([...new Set(seqs(c.received))]).toEqual(expect.arrayContaining([0, 2]));
      expect(seqs(c.received).every((seq) => seq >= 0 && seq <= 2)).toBe(true);
      await c.consumer.stop();
    },
  );

  it(
    "a batch the broker stored while frozen, after kafkajs gave up on its answers, is sent again as it is: stored once, and later batches are not refused as out of order",
    { timeout: 180_000 },
    async () => {
      // With 1 s per request, kafkajs gives up after its 6 attempts and their backoff (about
      // 9 s) while the broker is still frozen; the broker holds every attempt in its socket and
      // stores the first when it thaws. Sending anything else with those sequence numbers would
      // be refused as out of order for as long as the producer lives. An attempt that reconnects
      // waits for the connection too (a frozen broker's accept queue fills): in a loaded full run
      // the 6 attempts once took over 30 s, so connecting is bounded at 1 s and the wait is 60 s.
      const logged: string[] = [];
      const note = (_: object, msg: string) => logged.push(msg);
      const bus = await connectKafkaBus({
        brokers: broker.brokerList,
        clientId: "bus-faults-lost-answers",
        operationTimeoutMs: 1_000,
        requestTimeoutMs: 1_000,
        connectionTimeoutMs: 1_000,
        consumerTiming: timing,
        logger: { debug() {}, info: note, warn: note, error() {} },
      });
      buses.push(bus);
      const topic = uniqueName("lost-answers");
      await bus.ensureTopics([topic], 3);
      const batch = (from: number) =>
        Array.from({ length: 30 }, (_, i) => ({ key: `user-${i}`, value: { seq: from + i } }));
      await bus.publishBatch(topic, batch(0));

      broker.pause();
      let outcome: unknown;
      try {
        outcome = await bus.publishBatch(topic, batch(30)).catch((e: unknown) => e);
        await waitFor(
          "kafkajs to give up on the frozen broker",
          () => logged.some((m) => m.includes("sending the same batch again")),
          60_000,
          () => ({ outcome: String(outcome), logged: logged.slice(-5) }),
        );
      } finally {
        broker.resume();
      }
      expect(
        outcome,
        "the caller's deadline passed with the batch still being sent",
      ).toBeInstanceOf(PublishOutcomeUnknown);
      await (outcome as PublishOutcomeUnknown).settled;
      expect(logged).toContain("kafka: a batch sent again was stored");
      await retryFor30s(() => bus.publishBatch(topic, batch(60)));

      const all = Array.from({ length: 90 }, (_, seq) => seq);
      // The thawed broker fenced itself (missed heartbeats): its group coordinator may be loading.
      let c: Awaited<ReturnType<typeof startCollecting>> | undefined;
      await retryFor30s(async () => {
        c = await startCollecting(bus, { groupId: uniqueName("lost-group"), topics: [topic] });
      });
      await waitFor(
        "all 90 records",
        () => new Set(seqs(c!.received)).size === 90,
        30_000,
        () => c!.received.length,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seqs(c!.received)).toEqual(all);
      await c!.consumer.stop();
    },
  );

  // contract: crash, restart
  it("keeps records and committed offsets across a broker SIGKILL and restart; a cut-off consumer reports a crash", async () => {
    const bus = await connect();
    const topic = uniqueName("restart");
    const groupId = uniqueName("restart-group");
    await bus.ensureTopics([topic], 3);
    await bus.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, seq) => ({ key: `user-${seq}`, value: { seq } })),
    );
    const first = await startCollecting(bus, { groupId, topics: [topic] });
    await waitFor(
      "5 records",
      () => first.received.length === 5,
      20_000,
      () => first.received.length,
    );
    const next = new Map<number, string>();
    for (const m of first.received) next.set(m.partition, (BigInt(m.offset) + 1n).toString());
    await first.consumer.commit(
      [...next].map(([partition, offset]) => ({ topic, partition, offset })),
    );

    await broker.kill("SIGKILL");
    const down = await bus
      .publish(topic, { key: "user-0", value: { seq: -1 } })
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(BusUnavailable);
    await waitFor("the consumer to report a crash", () => first.crashes.length > 0, 60_000);
    expect(first.crashes[0]).toBeInstanceOf(BusUnavailable);
    expect(first.crashes[0]?.message).toContain(`Kafka at ${broker.brokerList}`);

    await broker.restart();
    const after = await connect();
    await retryFor30s(() => after.endOffsets(topic)); // the restarted broker may need a moment to lead its partitions
    await after.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: `user-${i}`, value: { seq: 5 + i } })),
    );
    const second = await startCollecting(after, { groupId, topics: [topic] });
    await waitFor(
      "the 5 new records",
      () => seqs(second.received).includes(9) && second.received.length >= 5,
      30_000,
      () => seqs(second.received),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seqs(second.received).filter((s) => s >= 0)).toEqual([5, 6, 7, 8, 9]);
    await second.consumer.stop();
  }, 150_000);
});

/** Retries `attempt` until it succeeds (a broker that just came back), failing after 30 s. */
async function retryFor30s(attempt: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
