import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { startPrivateKafka, uniqueName, waitFor, type PrivateKafka } from "@reco/testkit";
import { isAlive } from "./process-state.ts";

// No retries by default, so that a dead broker fails fast; the consumer retries, because the
// group coordinator needs a moment after a broker restart.
function kafkaClient(brokers: string[], retries = 0): Kafka {
  return new Kafka({
    clientId: uniqueName("testkit"),
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries },
  });
}

async function listTopics(brokers: string[]): Promise<string[]> {
  const admin = kafkaClient(brokers).admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function readAll(brokers: string[], topic: string, expected: number): Promise<string[]> {
  const consumer = kafkaClient(brokers, 8).consumer({ groupId: uniqueName("testkit") });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? "");
      },
    });
    await waitFor(() => values.length >= expected, {
      timeoutMs: 30_000,
      description: `${expected} messages on ${topic}`,
    });
    return values;
  } finally {
    await consumer.disconnect();
  }
}

describe("startPrivateKafka", () => {
  const started: PrivateKafka[] = [];
  afterAll(async () => {
    await Promise.all(started.map((kafka) => kafka.dispose()));
  });

  it("answers listTopics, is unreachable once killed, and keeps produced messages across a restart on the same port", async () => {
    const kafka = await startPrivateKafka();
    started.push(kafka);
    expect(kafka.port).not.toBe(9092);
    expect(kafka.brokers).toEqual([`127.0.0.1:${kafka.port}`]);
    expect(kafka.brokerList).toBe(`127.0.0.1:${kafka.port}`);

    const topic = uniqueName("testkit");
    const admin = kafkaClient(kafka.brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    expect(await listTopics(kafka.brokers)).toContain(topic);

    const producer = kafkaClient(kafka.brokers).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: "k", value: "survives a crash" }] });
    await producer.disconnect();

    const firstPid = kafka.pid;
    await kafka.kill();
    expect(isAlive(firstPid)).toBe(false);
    await expect(listTopics(kafka.brokers)).rejects.toThrow();

    await kafka.restart();
    expect(kafka.pid).not.toBe(firstPid);
    expect(kafka.brokers).toEqual([`127.0.0.1:${kafka.port}`]);
    expect(await listTopics(kafka.brokers)).toContain(topic);
    expect(await readAll(kafka.brokers, topic, 1)).toEqual(["survives a crash"]);
  }, 180_000); // starts, kills and restarts a JVM/server: slow when the 2 cores are busy
});
