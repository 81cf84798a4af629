import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectKafkaBus, type ConsumedMessage, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { uniqueName, waitFor } from "@reco/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createStreamWorker, type DeadLetter, type StreamWorker } from "@reco/stream";
import {
  allCommitted,
  consumed,
  publishEvents,
  quietLogger,
  sampleEvent,
  snapshotCounts,
} from "./helpers.ts";

const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  throw new Error(
    'KAFKA_BROKERS is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`',
  );
}

const topics = topicNames(uniqueName("poison"));
const groupId = uniqueName("poison-workers");
let dir: string;
let bus: EventBus;
let worker: StreamWorker | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "poison-"));
  bus = await connectKafkaBus({ brokers, clientId: "poison-test" });
  await bus.ensureTopics(Object.values(topics), 3);
});
afterAll(async () => {
  await worker?.stop();
  await bus?.close();
  await rm(dir, { recursive: true, force: true });
});

it("real Kafka: poison messages interleaved with good ones all reach the DLQ with reasons; the good ones all reach Parquet", async () => {
  const poison = [
    { bytes: Buffer.from("{not json"), reason: /^bad json/ },
    {
      bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), userId: "" })),
      reason: /^invalid: userId/,
    },
    {
      bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), schemaVersion: 9 })),
      reason: /^unknown schemaVersion: 9/,
    },
    {
      bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), itemId: "x".repeat(70_000) })),
      reason: /^oversized/,
    },
  ];
  for (let round = 0; round < 40; round++) {
    await publishEvents(bus, topics, round * 50, round * 50 + 50);
    const bad = poison[round % poison.length]!;
    await bus.publish(round % 2 ? topics.click : topics.responses, {
      key: `user-${round}`,
      value: bad.bytes,
    });
  }
  worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger,
    config: { groupId, snapshotRoot: path.join(dir, "snapshots"), batchIntervalMs: 200 },
  });
  await worker.start();
  await waitFor(() => allCommitted(bus, groupId, consumed(topics)), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });

  expect(await snapshotCounts(path.join(dir, "snapshots"))).toEqual({
    rows: 2_000,
    distinct: 2_000,
  });
  const letters: ConsumedMessage[] = [];
  const reader = bus.consumer({ groupId: uniqueName("dlq-reader"), topics: [topics.dlq] });
  await reader.run(async (batch) => void letters.push(...batch.messages));
  await waitFor(() => letters.length >= 40, { timeoutMs: 30_000 });
  await reader.stop();
  const parsed = letters.map((m) => JSON.parse(m.value.toString()) as DeadLetter);
  expect(new Set(parsed.map((l) => `${l.sourceTopic}/${l.partition}/${l.offset}`)).size).toBe(40);
  for (const letter of parsed) {
    const expected = poison.find((p) =>
      p.bytes.equals(Buffer.from(letter.originalBase64, "base64")),
    );
    expect(
      expected,
      `dead letter ${letter.sourceTopic}/${letter.partition}/${letter.offset}`,
    ).toBeDefined();
    expect(letter.reason).toMatch(expected!.reason);
  }
}, 120_000);
