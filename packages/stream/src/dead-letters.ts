import type { ConsumedMessage, OutgoingMessage } from "@reco/bus";

/** What lands on the dead-letter topic: the reason, where it came from, and the original bytes. */
export interface DeadLetter {
  reason: string;
  sourceTopic: string;
  partition: number;
  offset: string;
  key: string | null;
  timestamp: number;
  /** The original message bytes, base64 (they may not even be UTF-8). */
  originalBase64: string;
  deadAt: string;
}

export function deadLetter(
  topic: string,
  partition: number,
  message: ConsumedMessage,
  reason: string,
): DeadLetter {
  return {
    reason,
    sourceTopic: topic,
    partition,
    offset: message.offset,
    key: message.key,
    timestamp: message.timestamp,
    originalBase64: message.value.toString("base64"),
    deadAt: new Date().toISOString(),
  };
}

/** Keyed by source position, so a redelivered dead letter (crash before commit) is recognisable. */
export function deadLetterMessage(letter: DeadLetter): OutgoingMessage {
  return { key: `${letter.sourceTopic}/${letter.partition}/${letter.offset}`, value: letter };
}
