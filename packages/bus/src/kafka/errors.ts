/** Turns kafkajs failures into the port's errors, and bounds every broker call in time. */
import { AppError } from "@reco/contracts";
import { logLevel, type logCreator } from "kafkajs";
import { BusUnavailable, CommitRejected, type BusLogger } from "../port.ts";

const REBALANCE_TYPES = new Set([
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
  "NOT_COORDINATOR",
]);

/** `what` says which call failed ("publishing to reco.events.watch"), for the message. */
export function toBusError(error: unknown, brokers: string, what: string): Error {
  if (error instanceof AppError) return error;
  const chain = causes(error);
  const type = chain.map((e) => (e as { type?: string }).type).find(Boolean);
  const message = chain
    .map((e) => e.message)
    .filter(Boolean)
    .join(": ");
  if (type === "UNKNOWN_TOPIC_OR_PARTITION")
    return new AppError("NOT_FOUND", `Kafka: unknown topic or partition while ${what}`);
  if (type && REBALANCE_TYPES.has(type))
    return new CommitRejected(
      `Kafka group rebalanced while ${what}; the records will be redelivered (${type})`,
      { cause: error },
    );
  return new BusUnavailable(
    `Kafka at ${brokers} failed while ${what}: ${message || String(error)}`,
    error,
  );
}

/** Rejects with BusUnavailable when `promise` has not settled after `ms` (the call keeps running). */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  brokers: string,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BusUnavailable(`Kafka at ${brokers} did not answer within ${ms} ms while ${what}`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    throw toBusError(error, brokers, what);
  } finally {
    clearTimeout(timer);
  }
}

function causes(error: unknown): Error[] {
  const out: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && out.length < 5) {
    out.push(current);
    current =
      (current as { originalError?: unknown; cause?: unknown }).originalError ?? current.cause;
  }
  return out;
}

/**
 * Routes kafkajs's log lines to the bus logger: errors and warnings as such, its chatty info
 * (joins, stops, connections) as debug.
 */
export function kafkaLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const obj = { namespace, ...fields };
      const text = `kafkajs: ${message}`;
      if (level === logLevel.ERROR) logger.error(obj, text);
      else if (level === logLevel.WARN && !quietWarning(message)) logger.warn(obj, text);
      else logger.debug(obj, text);
    };
}

/** Known, deliberate configuration warnings that would otherwise repeat at every start. */
function quietWarning(message: string): boolean {
  // We bound producer retries on purpose so a publish never hangs; within that bound the broker
  // still de-duplicates retried batches by producer id and sequence.
  return message.startsWith("Limiting retries for the idempotent producer");
}
