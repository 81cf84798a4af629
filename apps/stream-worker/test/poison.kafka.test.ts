import path from "node:path";
import type { ConsumedMessage } from "@reco/bus";
import { uniqueName, waitFor } from "@reco/testkit";
import { expect, it } from "vitest";
import type { DeadLetter } from "@reco/stream";
import {
  kafkaTestFixture,
  publishEvents,
  sampleEvent,
  snapshotCounts,
  startWorkerUntilCommitted,
} from "./helpers.ts";

const fixture = kafkaTestFixture("poison", 3);
const { topics } = fixture;

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
    await publishEvents(fixture.bus, topics, round * 50, round * 50 + 50);
    const bad = poison[round % poison.length]!;
    await fixture.bus.publish(round % 2 ? topics.click : topics.responses, {
      key: `user-${round}`,
      value: bad.bytes,
    });
  }
  await startWorkerUntilCommitted(fixture);

  expect(await snapshotCounts(path.join(fixture.dir, "snapshots"))).toEqual({
    rows: 2_000,
    distinct: 2_000,
  });
  const letters: ConsumedMessage[] = [];
  const reader = fixture.bus.consumer({ groupId: uniqueName("dlq-reader"), topics: [topics.dlq] });
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
