/**
 * On-disk record format of the file log: one record per line,
 *   `<payload byte length> <crc32 of payload, 8 hex> <payload JSON>\n`
 * payload = {"o":offset,"t":timestamp,"k":key,"j":<the value's JSON text, inline>} when the
 * producer handed a JSON value, else {"o":…,"t":…,"k":…,"v":utf8 value as a string} (or "b": base64
 * when the value is not valid UTF-8). The inline form costs no escaping to write and no copy to
 * read (the value is the bytes between `,"j":` and the closing brace); the fields before it are
 * numbers and a JSON string, which cannot hold a raw `,"j":`. JSON escapes newlines, so '\n'
 * appears only as the record terminator: a line without its '\n' is a torn write, anything else
 * that fails to parse is corruption.
 */
import { isUtf8 } from "node:buffer";
import { crc32 } from "node:zlib";

export interface StoredRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: Buffer;
}

/** Largest payload accepted when reading; a length field above it is corruption, not a record. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const MAX_HEADER = 10 + 1 + 8 + 1;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** A record to append: its value as bytes, or as JSON text (stored inline). */
export interface RecordToAppend extends Omit<StoredRecord, "value"> {
  value: Buffer | string;
}

const INLINE_JSON = Buffer.from(',"j":');
const CLOSING_BRACE = 0x7d;

/** The payload of a record as text: same bytes JSON.stringify({o, t, k, v|b|j}) would give. */
function payloadText(record: RecordToAppend): string {
  const head = `{"o":${record.offset},"t":${record.timestamp},"k":${JSON.stringify(record.key)}`;
  const { value } = record;
  return typeof value === "string"
    ? `${head},"j":${value}}`
    : isUtf8(value)
      ? `${head},"v":${JSON.stringify(value.toString("utf8"))}}`
      : `${head},"b":"${value.toString("base64")}"}`;
}

/**
 * Encodes records back to back into one reusable buffer (a batch's single write). Each payload is
 * UTF-8 encoded once, into a scratch buffer; its length and crc32 are taken from those bytes and
 * the payload is copied behind its header (a memcpy, cheaper than encoding the text again).
 */
export class RecordEncoder {
  private out = Buffer.allocUnsafe(64 * 1024);
  private scratch = Buffer.allocUnsafe(16 * 1024);
  private used = 0;

  /** Appends one record; returns the byte position where it starts. */
  add(record: RecordToAppend): number {
    const payload = payloadText(record);
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    if (this.scratch.length < payload.length * 3)
      this.scratch = Buffer.allocUnsafe(payload.length * 3);
    const length = this.scratch.write(payload, 0, "utf8");
    const header = `${length} ${crc32(this.scratch.subarray(0, length)).toString(16).padStart(8, "0")} `;
    const start = this.used;
    this.reserve(header.length + length + 1);
    this.used += this.out.write(header, this.used, "latin1");
    this.scratch.copy(this.out, this.used, 0, length);
    this.used += length;
    this.out[this.used++] = NEWLINE;
    return start;
  }

  /** The records added since the last take (valid until the next add), and starts over. */
  take(): Buffer {
    const bytes = this.out.subarray(0, this.used);
    this.used = 0;
    return bytes;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.used + bytes));
    this.out.copy(grown, 0, 0, this.used);
    this.out = grown;
  }
}

const singleRecords = new RecordEncoder();

/** One record as its own line (tests, and tools that write a single record). */
export function encodeRecord(record: RecordToAppend): Buffer {
  singleRecords.add(record);
  return Buffer.from(singleRecords.take());
}

export type ParseStep =
  | { kind: "record"; record: StoredRecord; length: number }
  /** Not enough bytes for a whole record: a record still being written, or a torn tail. */
  | { kind: "incomplete" }
  | { kind: "invalid"; reason: string };

/** Parses the record starting at `start` in `buf`; `expectedOffset` guards against gaps/duplicates. */
export function parseRecord(buf: Buffer, start: number, expectedOffset: number): ParseStep {
  const firstSpace = indexWithin(buf, SPACE, start, start + 11);
  if (firstSpace < 0)
    return buf.length - start < 11 && isDigits(buf, start, buf.length)
      ? { kind: "incomplete" }
      : { kind: "invalid", reason: "bad length field" };
  if (firstSpace === start || !isDigits(buf, start, firstSpace))
    return { kind: "invalid", reason: "bad length field" };
  const length = Number(buf.toString("latin1", start, firstSpace));
  if (length > MAX_RECORD_BYTES)
    return { kind: "invalid", reason: `length ${length} exceeds ${MAX_RECORD_BYTES}` };
  const payloadStart = firstSpace + 1 + 8 + 1;
  const end = payloadStart + length + 1;
  if (buf.length < end) return { kind: "incomplete" };
  if (buf[payloadStart - 1] !== SPACE) return { kind: "invalid", reason: "bad checksum field" };
  const expectedCrc = buf.toString("latin1", firstSpace + 1, payloadStart - 1);
  if (!/^[0-9a-f]{8}$/.test(expectedCrc)) return { kind: "invalid", reason: "bad checksum field" };
  if (buf[end - 1] !== NEWLINE)
    return { kind: "invalid", reason: "record not terminated by a newline" };
  const payload = buf.subarray(payloadStart, end - 1);
  if (crc32(payload) !== parseInt(expectedCrc, 16))
    return { kind: "invalid", reason: "checksum mismatch" };
  let body: { o?: unknown; t?: unknown; k?: unknown; v?: unknown; b?: unknown };
  let inline: Buffer | undefined;
  const inlineAt = payload.indexOf(INLINE_JSON);
  try {
    if (inlineAt >= 0) {
      if (payload[payload.length - 1] !== CLOSING_BRACE)
        return { kind: "invalid", reason: "payload is not JSON" };
      body = JSON.parse(`${payload.toString("utf8", 0, inlineAt)}}`) as typeof body;
      inline = payload.subarray(inlineAt + INLINE_JSON.length, payload.length - 1);
    } else {
      body = JSON.parse(payload.toString("utf8")) as typeof body;
    }
  } catch {
    return { kind: "invalid", reason: "payload is not JSON" };
  }
  if (body.o !== expectedOffset)
    return {
      kind: "invalid",
      reason: `offset ${String(body.o)} where ${expectedOffset} was expected`,
    };
  if (typeof body.t !== "number" || !(typeof body.k === "string" || body.k === null))
    return { kind: "invalid", reason: "bad record fields" };
  const value =
    inline ??
    (typeof body.v === "string"
      ? Buffer.from(body.v, "utf8")
      : typeof body.b === "string"
        ? Buffer.from(body.b, "base64")
        : undefined);
  if (!value) return { kind: "invalid", reason: "record has no value" };
  return {
    kind: "record",
    record: { offset: expectedOffset, timestamp: body.t, key: body.k, value },
    length: end - start,
  };
}

/** Header bytes a record needs before its payload; used to size reads. */
export const HEADER_BYTES = MAX_HEADER;

/**
 * Whether damage found at `start` can be a torn tail: the bytes to the end hold no newline
 * (a partial last line) or are all zero (blocks allocated but never written before a crash).
 */
export function isTornTail(buf: Buffer, start: number): boolean {
  return buf.indexOf(NEWLINE, start) < 0 || buf.subarray(start).every((b) => b === 0);
}

function indexWithin(buf: Buffer, byte: number, from: number, to: number): number {
  const at = buf.indexOf(byte, from);
  return at >= 0 && at < Math.min(to, buf.length) ? at : -1;
}

function isDigits(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i] ?? 0;
    if (b < 0x30 || b > 0x39) return false;
  }
  return true;
}
