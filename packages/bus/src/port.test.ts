import { Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  consumerLag,
  JsonText,
  encodeOutgoing,
  isValidTopicName,
  nextOffset,
  partitionForKey,
} from "./port.ts";

describe("partitionForKey", () => {
  it("agrees with kafkajs's (Java-compatible) default partitioner for every partition count", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    let compared = 0;
    for (let partitions = 1; partitions <= 12; partitions++) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 2000; i++) {
        const key = `user-${i}${"é".repeat(i % 4)}${"x".repeat(i % 7)}`;
        expect(partitionForKey(key, partitions)).toBe(
          kafkajs({ topic: "t", partitionMetadata, message: { key, value: null } }),
        );
        compared++;
      }
    }
    expect(compared).toBe(24_000);
  });

  it("spreads user ids over all partitions", () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[partitionForKey(`user-${i}`, 3)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});

describe("port helpers", () => {
  it("encodes JSON values as text, passes Buffers and JsonText through; refuses what JSON cannot carry", () => {
    const value = (v: unknown) => encodeOutgoing({ key: "k", value: v }, 0).value;
    expect(value({ a: 1 })).toBe('{"a":1}');
    const raw = Buffer.from([1, 2, 3]);
    expect(value(raw)).toBe(raw);
    expect(value(new JsonText('{"b":2}'))).toBe('{"b":2}');
    expect(() => value(undefined)).toThrow(/message 0: .*JSON-serialisable/);
    expect(() => value({ n: 10n })).toThrow(/JSON-serialisable.*BigInt/);
    expect(() => encodeOutgoing({ key: "", value: 1 }, 3)).toThrow(/message 3: key/);
  });

  it("computes lag per partition, counting a missing commit from offset 0", () => {
    const lag = consumerLag(
      [
        { partition: 0, offset: "4" },
        { partition: 1, offset: null },
      ],
      [
        { partition: 0, offset: "10" },
        { partition: 1, offset: "3" },
        { partition: 2, offset: "0" },
      ],
    );
    expect(lag).toEqual([
      { partition: 0, offset: "6" },
      { partition: 1, offset: "3" },
      { partition: 2, offset: "0" },
    ]);
    expect(nextOffset("9007199254740993")).toBe("9007199254740994");
  });

  it("accepts Kafka topic names only", () => {
    expect(isValidTopicName("reco.events.watch")).toBe(true);
    for (const bad of ["", ".", "..", "a/b", "a b", "x".repeat(250)])
      expect(isValidTopicName(bad)).toBe(false);
  });
});
