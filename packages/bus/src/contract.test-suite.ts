/**
 * The ONE contract suite of the event-bus port; each adapter's test file runs it:
 *   busContractSuite("file-log", async () => ({ bus, cleanup }))
 * Every test uses its own topic and group names, so the suite can share a Kafka broker.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CommitRejected,
  consumerLag,
  nextOffset,
  partitionForKey,
  type BusConsumer,
  type ConsumedMessage,
  type ConsumerOptions,
  type EventBus,
  type TopicPartition,
} from "./port.ts";
import { readPipelineBacklog } from "./pipeline.ts";

export interface BusUnderTest {
  bus: EventBus;
  cleanup: () => Promise<void>;
}

export interface Received extends ConsumedMessage {
  topic: string;
  partition: number;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** Polls `condition` until it holds; fails with `what` and the last observed state otherwise. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs = 20_000,
  state: () => unknown = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; state: ${JSON.stringify(state())}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A running consumer that records every delivered message (and its rebalance callbacks). */
export async function startCollecting(
  bus: EventBus,
  options: ConsumerOptions & { bind?: (consumer: BusConsumer) => void },
) {
  const received: Received[] = [];
  const events: { kind: "assigned" | "revoked"; partitions: TopicPartition[] }[] = [];
  const crashes: Error[] = [];
  const consumer: BusConsumer = bus.consumer({
    ...options,
    onPartitionsAssigned: async (partitions) => {
      events.push({ kind: "assigned", partitions });
      await options.onPartitionsAssigned?.(partitions);
    },
    onPartitionsRevoked: async (partitions) => {
      events.push({ kind: "revoked", partitions });
      await options.onPartitionsRevoked?.(partitions);
    },
    onCrash: (error) => {
      crashes.push(error);
      options.onCrash?.(error);
    },
  });
  options.bind?.(consumer);
  const batchSizes: number[] = [];
  await consumer.run(async ({ topic, partition, messages }) => {
    batchSizes.push(messages.length);
    for (const m of messages) received.push({ ...m, topic, partition });
  });
  return { consumer, received, events, crashes, batchSizes };
}

const json = (m: ConsumedMessage) =>
  JSON.parse(m.value.toString("utf8")) as { seq: number; user: string };
const id = (m: Received) => `${m.partition}:${m.offset}`;
const sortedPartitions = (c: BusConsumer) =>
  c
    .assignment()
    .map((tp) => tp.partition)
    .sort();

export function busContractSuite(name: string, makeBus: () => Promise<BusUnderTest>): void {
  describe(`event-bus contract: ${name}`, () => {
    let subject: BusUnderTest;
    let bus: EventBus;
    let topic: string;
    let groupId: string;

    beforeEach(async () => {
      subject = await makeBus();
      bus = subject.bus;
      topic = uniqueName("contract");
      groupId = uniqueName("group");
      await bus.ensureTopics([topic], 3);
    });
    afterEach(async () => {
      await subject?.cleanup();
    });

    // contract: join, start, deliver
    it("delivers a published message back with its key, JSON or raw value, offset and timestamp", async () => {
      const before = Date.now();
      // An hour ago: explicit and distinct from now, yet inside Kafka's 7-day retention (an older
      // stamp may be deleted by the broker's next retention pass before it is read).
      const stamped = before - 3_600_000;
      await bus.publish(topic, {
        key: "user-1",
        value: { seq: 1, user: "user-1", note: "é\nline" },
      });
      await bus.publish(topic, {
        key: "user-1",
        value: Buffer.from([0xff, 0x00, 0x0a, 0x80]),
        timestamp: stamped,
      });
      const { consumer, received } = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "2 messages",
        () => received.length === 2,
        20_000,
        () => received.length,
      );
      const [first, second] = received as [Received, Received];
      expect(first.key).toBe("user-1");
      expect(JSON.parse(first.value.toString("utf8"))).toEqual({
        seq: 1,
        user: "user-1",
        note: "é\nline",
      });
      expect(first.partition).toBe(partitionForKey("user-1", 3));
      expect(first.offset).toMatch(/^\d+$/);
      expect(second.offset).toBe(nextOffset(first.offset));
      expect(first.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(second.value.equals(Buffer.from([0xff, 0x00, 0x0a, 0x80]))).toBe(true);
      expect(second.timestamp).toBe(stamped);
      await consumer.stop();
    });

    // contract: deliver
    it("keeps per-key order and a stable key→partition mapping across many keys and batches", async () => {
      const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
      const perUser = 25;
      const all = users.flatMap((user, u) =>
        Array.from({ length: perUser }, (_, seq) => ({ user, seq, order: seq * users.length + u })),
      );
      all.sort((a, b) => a.order - b.order);
      for (let i = 0; i < all.length; i += 100) {
        await bus.publishBatch(
          topic,
          all.slice(i, i + 100).map(({ user, seq }) => ({ key: user, value: { seq, user } })),
        );
      }
      const { consumer, received } = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        `${all.length} messages`,
        () => received.length >= all.length,
        30_000,
        () => received.length,
      );
      expect(received).toHaveLength(all.length);
      const seen = new Map<string, number[]>();
      for (const m of received) {
        const { seq, user } = json(m);
        expect(m.key).toBe(user);
        expect(m.partition).toBe(partitionForKey(user, 3));
        seen.set(user, [...(seen.get(user) ?? []), seq]);
      }
      for (const user of users)
        expect(seen.get(user)).toEqual(Array.from({ length: perUser }, (_, i) => i));
      expect(new Set(received.map((m) => m.partition)).size).toBe(3);
      await consumer.stop();
    });

    // contract: stop, restart
    it("redelivers uncommitted records to the next member after a consumer stops without committing", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: `u${i}`, value: { seq: i, user: `u${i}` } })),
      );
      const first = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "10 messages",
        () => first.received.length === 10,
        20_000,
        () => first.received.length,
      );
      await first.consumer.stop();
      expect(first.events.at(-1)?.kind).toBe("revoked");
      expect(await bus.committedOffsets(groupId, topic)).toEqual(
        [0, 1, 2].map((partition) => ({ partition, offset: null })),
      );

      const second = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "10 redelivered",
        () => second.received.length === 10,
        20_000,
        () => second.received.length,
      );
      expect(second.received.map(id).sort()).toEqual(first.received.map(id).sort());
      await second.consumer.stop();
    });

    // contract: crash, restart
    it("crashes a consumer whose handler throws, without committing, and redelivers its batch", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 6 }, (_, i) => ({ key: `u${i}`, value: { seq: i, user: `u${i}` } })),
      );
      const crashes: Error[] = [];
      const failing = bus.consumer({
        groupId,
        topics: [topic],
        onCrash: (error) => void crashes.push(error),
      });
      await failing.run(async () => {
        throw new Error("handler failed on purpose");
      });
      await waitFor("a crash report", () => crashes.length > 0, 20_000);
      expect(crashes[0]?.message).toContain("handler failed on purpose");
      await failing.stop();
      const next = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "6 redelivered",
        () => next.received.length === 6,
        20_000,
        () => next.received.length,
      );
      expect(new Set(next.received.map(id)).size).toBe(6);
      await next.consumer.stop();
    });

    // contract: commit, restart
    it("resumes exactly at the committed offset after a restart", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 30 }, (_, i) => ({
          key: `u${i % 9}`,
          value: { seq: i, user: `u${i % 9}` },
        })),
      );
      const first = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "30 messages",
        () => first.received.length === 30,
        20_000,
        () => first.received.length,
      );
      const commits = [0, 1, 2].flatMap((partition) => {
        const mine = first.received.filter((m) => m.partition === partition);
        const half = mine[Math.floor(mine.length / 2)];
        return half ? [{ topic, partition, offset: half.offset }] : [];
      });
      await first.consumer.commit(commits);
      await first.consumer.stop();
      expect((await bus.committedOffsets(groupId, topic)).filter((c) => c.offset !== null)).toEqual(
        commits.map(({ partition, offset }) => ({ partition, offset })),
      );

      const expected = first.received.filter((m) => {
        const c = commits.find((x) => x.partition === m.partition);
        return !c || BigInt(m.offset) >= BigInt(c.offset);
      });
      const second = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        `${expected.length} messages after the commit`,
        () => second.received.length >= expected.length,
        20_000,
        () => second.received.length,
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may arrive
      expect(second.received.map(id).sort()).toEqual(expected.map(id).sort());
      await second.consumer.stop();
    });

    // contract: rebalance, commit, stop
    it("splits partitions between two members without duplicates and hands over on stop from the committed offset", async () => {
      const a = await startCollecting(bus, { groupId, topics: [topic] });
      const b = await startCollecting(bus, { groupId, topics: [topic] });
      const state = () => ({ a: sortedPartitions(a.consumer), b: sortedPartitions(b.consumer) });
      await waitFor(
        "a 2/1 split of 3 partitions",
        () =>
          a.consumer.assignment().length + b.consumer.assignment().length === 3 &&
          a.consumer.assignment().length > 0 &&
          b.consumer.assignment().length > 0,
        30_000,
        state,
      );
      expect([...sortedPartitions(a.consumer), ...sortedPartitions(b.consumer)].sort()).toEqual([
        0, 1, 2,
      ]);
      expect(a.events.some((e) => e.kind === "revoked")).toBe(true); // b's join rebalanced a

      const total = 300;
      await bus.publishBatch(
        topic,
        Array.from({ length: total }, (_, i) => ({
          key: `user-${i % 50}`,
          value: { seq: i, user: `user-${i % 50}` },
        })),
      );
      await waitFor(
        `${total} messages between both`,
        () => a.received.length + b.received.length >= total,
        30_000,
        () => [a.received.length, b.received.length],
      );
      const ids = [...a.received, ...b.received].map(id);
      expect(new Set(ids).size).toBe(total);
      expect(ids).toHaveLength(total);
      expect(a.received.every((m) => sortedPartitions(a.consumer).includes(m.partition))).toBe(
        true,
      );
      expect(b.received.every((m) => sortedPartitions(b.consumer).includes(m.partition))).toBe(
        true,
      );

      // a commits what it processed, b does not; when b leaves, a gets b's partitions and
      // re-reads exactly b's records (from b's missing commit), none of its own.
      const lastPerPartition = new Map<number, string>();
      for (const m of a.received) lastPerPartition.set(m.partition, m.offset);
      await a.consumer.commit(
        [...lastPerPartition].map(([partition, offset]) => ({
          topic,
          partition,
          offset: nextOffset(offset),
        })),
      );
      const aBefore = a.received.length;
      await b.consumer.stop();
      await waitFor(
        "a owns all partitions",
        () => a.consumer.assignment().length === 3,
        30_000,
        state,
      );
      await waitFor(
        "b's records again at a",
        () => a.received.length - aBefore >= b.received.length,
        30_000,
        () => a.received.length - aBefore,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(a.received.slice(aBefore).map(id).sort()).toEqual(b.received.map(id).sort());
      await a.consumer.stop();
    });

    // contract: seek
    it("replays a partition from an offset after seek", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 10 }, (_, seq) => ({
          key: "replayed-user",
          value: { seq, user: "replayed-user" },
        })),
      );
      const partition = partitionForKey("replayed-user", 3);
      const c = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "10 messages",
        () => c.received.length === 10,
        20_000,
        () => c.received.length,
      );
      const firstOffset = BigInt(c.received[0]!.offset);
      c.consumer.seek({ topic, partition, offset: (firstOffset + 3n).toString() });
      await waitFor(
        "7 replayed",
        () => c.received.length === 17,
        20_000,
        () => c.received.length,
      );
      expect(c.received.slice(10).map((m) => json(m).seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
      expect(() =>
        c.consumer.seek({ topic: uniqueName("not-subscribed"), partition: 0, offset: "0" }),
      ).toThrow(/not assigned/);
      await c.consumer.stop();
    });

    // contract: start, seek
    it("applies a seek made inside onPartitionsAssigned before delivering that partition", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 10 }, (_, seq) => ({
          key: "resumed-user",
          value: { seq, user: "resumed-user" },
        })),
      );
      const partition = partitionForKey("resumed-user", 3);
      const holder: { consumer?: BusConsumer } = {};
      const c = await startCollecting(bus, {
        groupId,
        topics: [topic],
        // Like a worker that finds offsets 0..5 already covered by files on disk.
        onPartitionsAssigned: (partitions) => {
          if (partitions.some((tp) => tp.partition === partition))
            holder.consumer?.seek({ topic, partition, offset: "6" });
        },
        bind: (consumer) => (holder.consumer = consumer),
      });
      await waitFor(
        "4 messages",
        () => c.received.length >= 4,
        20_000,
        () => c.received.length,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(c.received.map((m) => json(m).seq)).toEqual([6, 7, 8, 9]);
      await c.consumer.stop();
    });

    // contract: deliver
    it("never hands the handler more than maxBatchSize messages at once", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 45 }, (_, seq) => ({
          key: "busy-user",
          value: { seq, user: "busy-user" },
        })),
      );
      const c = await startCollecting(bus, { groupId, topics: [topic], maxBatchSize: 10 });
      await waitFor(
        "45 messages",
        () => c.received.length === 45,
        20_000,
        () => c.received.length,
      );
      expect(Math.max(...c.batchSizes)).toBeLessThanOrEqual(10);
      expect(c.batchSizes.reduce((a, b) => a + b, 0)).toBe(45);
      expect(c.received.map((m) => json(m).seq)).toEqual(Array.from({ length: 45 }, (_, i) => i));
      await c.consumer.stop();
    });

    // contract: commit
    it("reports end offsets, committed offsets and lag", async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `lag-user-${i}`);
      await bus.publishBatch(
        topic,
        keys.map((key, seq) => ({ key, value: { seq, user: key } })),
      );
      const end = await bus.endOffsets(topic);
      const perPartition = [0, 1, 2].map(
        (p) => keys.filter((k) => partitionForKey(k, 3) === p).length,
      );
      expect(end).toEqual(
        perPartition.map((count, partition) => ({ partition, offset: String(count) })),
      );
      const none = await bus.committedOffsets(groupId, topic);
      expect(none.every((c) => c.offset === null)).toBe(true);
      expect(consumerLag(none, end).map((l) => Number(l.offset))).toEqual(perPartition);

      const c = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "7 messages",
        () => c.received.length === 7,
        20_000,
        () => c.received.length,
      );
      const busiest = perPartition.indexOf(Math.max(...perPartition));
      await c.consumer.commit([{ topic, partition: busiest, offset: "1" }]);
      const committed = await bus.committedOffsets(groupId, topic);
      expect(committed.find((x) => x.partition === busiest)?.offset).toBe("1");
      const lag = consumerLag(committed, await bus.endOffsets(topic)).map((l) => Number(l.offset));
      expect(lag).toEqual(perPartition.map((count, p) => (p === busiest ? count - 1 : count)));

      // The overview's figures: 7 published − 1 committed; 2 records in a dead-letter topic.
      const deadLetterTopic = uniqueName("dlq");
      await bus.ensureTopics([deadLetterTopic], 3);
      await bus.publishBatch(deadLetterTopic, [
        { key: "a", value: { seq: 0, user: "a" } },
        { key: "b", value: { seq: 1, user: "b" } },
      ]);
      expect(await readPipelineBacklog(bus, { groupId, topics: [topic], deadLetterTopic })).toEqual(
        { consumerLag: 6, committed: 1, deadLetters: 2 },
      );
      await c.consumer.stop();
    });

    // contract: rebalance, commit
    it("restarts every partition at its committed offset after a rebalance, those a member keeps included", async () => {
      await bus.publishBatch(
        topic,
        Array.from({ length: 30 }, (_, i) => ({ key: `u${i}`, value: { seq: i, user: `u${i}` } })),
      );
      const a = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "30 messages at a",
        () => a.received.length === 30,
        20_000,
        () => a.received.length,
      );
      const before = [...a.received];
      // a commits half of partition 0, nothing of the others.
      const p0 = before.filter((m) => m.partition === 0);
      expect(p0.length).toBeGreaterThan(1);
      const committedAt = BigInt(p0[Math.floor(p0.length / 2)]!.offset);
      await a.consumer.commit([{ topic, partition: 0, offset: committedAt.toString() }]);

      const b = await startCollecting(bus, { groupId, topics: [topic] });
      await waitFor(
        "a 2/1 split of 3 partitions",
        () =>
          a.consumer.assignment().length + b.consumer.assignment().length === 3 &&
          b.consumer.assignment().length > 0 &&
          a.events.at(-1)?.kind === "assigned",
        30_000,
        () => ({ a: sortedPartitions(a.consumer), b: sortedPartitions(b.consumer) }),
      );
      const again = (c: BusConsumer) =>
        before.filter(
          (m) =>
            sortedPartitions(c).includes(m.partition) &&
            (m.partition !== 0 || BigInt(m.offset) >= committedAt),
        );
      const [forA, forB] = [again(a.consumer), again(b.consumer)];
      expect(forA.length).toBeGreaterThan(0); // a keeps at least one partition
      await waitFor(
        "the uncommitted records again, at their new owners",
        () => a.received.length - 30 >= forA.length && b.received.length >= forB.length,
        30_000,
        () => [a.received.length - 30, b.received.length],
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may arrive
      expect(a.received.slice(30).map(id).sort()).toEqual(forA.map(id).sort());
      expect(b.received.map(id).sort()).toEqual(forB.map(id).sort());
      // Revoked (all of P) before the new assignment.
      const [revoked, assigned] = a.events.slice(-2);
      expect(revoked?.kind).toBe("revoked");
      expect(revoked?.partitions.map((tp) => tp.partition).sort()).toEqual([0, 1, 2]);
      expect(assigned?.kind).toBe("assigned");
      await b.consumer.stop();
      await a.consumer.stop();
    });

    // contract: idle, commit, seek, stop, stopped
    it("refuses commits and seeks outside its assignment (before run, another topic, after stop) and cannot run again once stopped", async () => {
      const c = bus.consumer({ groupId, topics: [topic] });
      expect(c.assignment()).toEqual([]);
      await expect(c.commit([{ topic, partition: 0, offset: "1" }])).rejects.toBeInstanceOf(
        CommitRejected,
      );
      expect(() => c.seek({ topic, partition: 0, offset: "0" })).toThrow(/not assigned/);

      await c.run(async () => undefined);
      expect(sortedPartitions(c)).toEqual([0, 1, 2]);
      const elsewhere = uniqueName("not-subscribed");
      await expect(
        c.commit([
          { topic, partition: 0, offset: "1" },
          { topic: elsewhere, partition: 0, offset: "1" },
        ]),
      ).rejects.toBeInstanceOf(CommitRejected);
      expect(await bus.committedOffsets(groupId, topic)).toEqual(
        [0, 1, 2].map((partition) => ({ partition, offset: null })),
      );

      await c.stop();
      await c.stop(); // idempotent
      expect(c.assignment()).toEqual([]);
      await expect(c.commit([{ topic, partition: 0, offset: "1" }])).rejects.toBeInstanceOf(
        CommitRejected,
      );
      expect(() => c.seek({ topic, partition: 0, offset: "0" })).toThrow(/not assigned/);
      await expect(c.run(async () => undefined)).rejects.toThrow(/stopped|already/);
    });

    // contract: join (a topic that does not exist)
    it("refuses bad input with a clear error and stores nothing", async () => {
      await expect(bus.publish(topic, { key: "", value: {} })).rejects.toThrow(/key/);
      await expect(
        bus.publishBatch(topic, [
          { key: "ok", value: { a: 1 } },
          { key: "u", value: { n: 1n } },
        ]),
      ).rejects.toThrow(/message 1.*JSON/);
      await expect(bus.publish("bad topic/name", { key: "u", value: {} })).rejects.toThrow(/topic/);
      await expect(bus.publish(uniqueName("missing"), { key: "u", value: {} })).rejects.toThrow(
        /not found/,
      );
      await expect(bus.ensureTopics([uniqueName("t")], 0)).rejects.toThrow(/partitions/);
      const ghost = bus.consumer({ groupId, topics: [uniqueName("missing")] });
      await expect(ghost.run(async () => undefined)).rejects.toThrow(/not found/);
      expect((await bus.endOffsets(topic)).every((e) => e.offset === "0")).toBe(true);
    });
  });
}
