/**
 * Validation of packed message bytes with the shared zod schemas, answering per message
 * "+<eventTime>" (valid) or "-<reason>" (dead letter). Runs on the validation thread
 * (validation-entry.ts), or inline.
 */
import { decodeEvent, MAX_EVENT_BYTES, type RecoEvent } from "@reco/contracts";

export interface ValidationRequest {
  id: number;
  bytes: ArrayBuffer;
  /** End offset of each message in `bytes`. */
  ends: Int32Array;
  keepEvents: boolean;
}

export interface ValidationReply {
  id: number;
  verdicts: string[];
  /** The decoded events of the valid messages, in order, when asked for. */
  events: RecoEvent[];
}

/** Decodes every message of a packed request (also used on the calling thread when threads = 0). */
export function validatePacked(request: ValidationRequest): ValidationReply {
  const buffer = Buffer.from(request.bytes);
  const verdicts: string[] = new Array(request.ends.length);
  const events: RecoEvent[] = [];
  let start = 0;
  for (let i = 0; i < request.ends.length; i++) {
    const end = request.ends[i]!;
    // Oversize is judged on the bytes received (bad UTF-8 may make the text shorter).
    const input =
      end - start > MAX_EVENT_BYTES
        ? buffer.subarray(start, end)
        : buffer.toString("utf8", start, end);
    const decoded = decodeEvent(input);
    if (decoded.ok) {
      verdicts[i] = `+${decoded.event.eventTime}`;
      if (request.keepEvents) events.push(decoded.event);
    } else {
      verdicts[i] = `-${decoded.reason}`;
    }
    start = end;
  }
  return { id: request.id, verdicts, events };
}
