/**
 * Validation of packed message bytes with the shared zod schemas, answering per message valid or
 * not (a byte each), the reasons of the invalid ones, and the event time of the first valid one.
 * Runs on the validation thread (validation-entry.ts), or inline. A typed array and a few strings
 * cross the thread boundary instead of a string per message.
 */
import { isUtf8 } from "node:buffer";
import { decodeEvent, MAX_EVENT_BYTES, type DecodeResult } from "@reco/contracts";
import { summarize, type EventSummary } from "./event-summary.ts";
import { FeatureRowsBuilder, type FeatureRows } from "./features.ts";

export interface ValidationRequest {
  id: number;
  bytes: ArrayBuffer;
  /** End offset of each message in `bytes`. */
  ends: Int32Array;
  keepEvents: boolean;
  /** Build the deliveries' real-time feature updates (FeatureRows). */
  keepFeatures: boolean;
}

export interface ValidationReply {
  id: number;
  /** 1 when message i is a valid event, 0 when it is a dead letter. */
  valid: Uint8Array;
  /** Why, for each invalid message in order. */
  reasons: string[];
  /** Index and event time of the first valid message (-1 / null when none). */
  firstValid: number;
  firstEventTime: string | null;
  /** What features and aggregates read of the valid messages, in order, when asked for. */
  events: EventSummary[];
  /** The real-time feature updates of the valid messages, when asked for. */
  features: FeatureRows | null;
}

/** Decodes every message of a packed request (also used on the calling thread when threads = 0). */
export function validatePacked(request: ValidationRequest): ValidationReply {
  const buffer = Buffer.from(request.bytes);
  const valid = new Uint8Array(request.ends.length);
  const reasons: string[] = [];
  let firstValid = -1;
  let firstEventTime: string | null = null;
  const events: EventSummary[] = [];
  const features = request.keepFeatures ? new FeatureRowsBuilder() : null;
  let start = 0;
  for (let i = 0; i < request.ends.length; i++) {
    const end = request.ends[i]!;
    const bytes = buffer.subarray(start, end);
    // Oversize is judged on the bytes received. JSON on the wire is UTF-8 (RFC 8259): anything
    // else goes to the DLQ with its bytes rather than into a snapshot with replacement characters.
    const decoded: DecodeResult =
      end - start > MAX_EVENT_BYTES
        ? decodeEvent(bytes)
        : isUtf8(bytes)
          ? decodeEvent(buffer.toString("utf8", start, end))
          : { ok: false, reason: "bad json: not valid UTF-8" };
    if (decoded.ok) {
      valid[i] = 1;
      if (firstValid < 0) {
        firstValid = i;
        firstEventTime = decoded.event.eventTime;
      }
      if (request.keepEvents) events.push(summarize(decoded.event));
      if (features && "itemId" in decoded.event) features.add(i, decoded.event);
    } else {
      reasons.push(decoded.reason);
    }
    start = end;
  }
  return {
    id: request.id,
    valid,
    reasons,
    firstValid,
    firstEventTime,
    events,
    features: features?.build() ?? null,
  };
}
