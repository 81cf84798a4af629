import { KafkaJSNonRetriableError, KafkaJSProtocolError } from "kafkajs";
import { describe, expect, it } from "vitest";
import { producerStateLost } from "./kafka.ts";

/** kafkajs's own error classes, as its producer throws them (codes from the Kafka protocol). */
const protocolError = (type: string, code: number) =>
  new KafkaJSProtocolError(
    Object.assign(new Error(`${type} from the broker`), { type, code, retriable: false }),
  );

describe("producerStateLost: when the idempotent producer has to be replaced", () => {
  it("recognises the broker's 'lost producer state' codes, however kafkajs wraps them", () => {
    const outOfOrder = protocolError("OUT_OF_ORDER_SEQUENCE_NUMBER", 45);
    expect(producerStateLost(outOfOrder)).toBe(true);
    expect(producerStateLost(protocolError("UNKNOWN_PRODUCER_ID", 59))).toBe(true);
    expect(producerStateLost(protocolError("INVALID_PRODUCER_EPOCH", 47))).toBe(true);
    // kafkajs's retrier rejects with a wrapper that keeps the original as its cause
    const wrapped = Object.assign(new KafkaJSNonRetriableError(outOfOrder), { cause: outOfOrder });
    expect(producerStateLost(wrapped)).toBe(true);
    // several brokers' answers in one
    const aggregate = Object.assign(new Error("many"), {
      errors: [new Error("timeout"), outOfOrder],
    });
    expect(producerStateLost(aggregate)).toBe(true);
  });

  it("leaves other failures alone (a timeout, a missing topic, a refused connection)", () => {
    expect(producerStateLost(protocolError("REQUEST_TIMED_OUT", 7))).toBe(false);
    expect(producerStateLost(protocolError("UNKNOWN_TOPIC_OR_PARTITION", 3))).toBe(false);
    expect(producerStateLost(new Error("connect ECONNREFUSED 127.0.0.1:9092"))).toBe(false);
    expect(producerStateLost(undefined)).toBe(false);
  });
});
