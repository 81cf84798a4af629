import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  encodeRecord,
  HEADER_BYTES,
  isTornTail,
  MAX_RECORD_BYTES,
  parseRecord,
  RecordEncoder,
} from "./record.ts";

/**
 * The file log's line format, byte by byte: every way a line can be damaged or cut short is named,
 * and records are found at their position inside a longer buffer. Lines are built here by hand
 * (`<length> <crc32 hex8> <payload>\n`) so the reader is not only checked against its own writer.
 */
function line(payload: string, crc?: string): Buffer {
  const bytes = Buffer.from(payload);
  const sum = crc ?? crc32(bytes).toString(16).padStart(8, "0");
  return Buffer.concat([Buffer.from(`${bytes.length} ${sum} `), bytes, Buffer.from("\n")]);
}
const invalid = (reason: string) => ({ kind: "invalid", reason });

describe("file-log record lines written by hand", () => {
  it("reads each value form: inline JSON, UTF-8 string, base64 bytes; a null key", () => {
    const inline = parseRecord(line('{"o":3,"t":9,"k":null,"j":[1,{"a":"b"}]}'), 0, 3);
    expect(inline).toEqual({
      kind: "record",
      record: { offset: 3, timestamp: 9, key: null, value: Buffer.from('[1,{"a":"b"}]') },
      length: line('{"o":3,"t":9,"k":null,"j":[1,{"a":"b"}]}').length,
    });
    const text = parseRecord(line('{"o":3,"t":9,"k":"u","v":"ü ✓"}'), 0, 3);
    expect(text.kind === "record" && text.record.value.toString("utf8")).toBe("ü ✓");
    const bytes = parseRecord(line('{"o":3,"t":9,"k":"u","b":"/wAKgA=="}'), 0, 3);
    expect(bytes.kind === "record" && [...bytes.record.value]).toEqual([0xff, 0x00, 0x0a, 0x80]);
  });

  it("finds a record at its position in a buffer of several, with its length", () => {
    const first = line('{"o":0,"t":1,"k":"a","v":"x"}');
    const second = line('{"o":1,"t":2,"k":"b","j":{"n":2}}');
    const buf = Buffer.concat([first, second]);
    const step = parseRecord(buf, first.length, 1);
    expect(step).toEqual({
      kind: "record",
      record: { offset: 1, timestamp: 2, key: "b", value: Buffer.from('{"n":2}') },
      length: second.length,
    });
  });

  it("names every kind of damage", () => {
    const good = line('{"o":0,"t":1,"k":"a","v":"x"}');
    const text = good.toString("latin1");
    const at = (s: string) => parseRecord(Buffer.from(s, "latin1"), 0, 0);
    expect(at(` ${text}`)).toEqual(invalid("bad length field"));
    expect(at(`x${text.slice(1)}`)).toEqual(invalid("bad length field"));
    expect(at(`12345678901 ${text}`)).toEqual(invalid("bad length field"));
    expect(parseRecord(Buffer.from(`${MAX_RECORD_BYTES + 1} 00000000 {}\n`), 0, 0)).toEqual(
      invalid(`length ${MAX_RECORD_BYTES + 1} exceeds ${MAX_RECORD_BYTES}`),
    );
    const space = text.indexOf(" ");
    expect(at(`${text.slice(0, space + 9)}x${text.slice(space + 10)}`)).toEqual(
      invalid("bad checksum field"),
    );
    expect(at(`${text.slice(0, space + 1)}ZZZZZZZZ${text.slice(space + 9)}`)).toEqual(
      invalid("bad checksum field"),
    );
    expect(at(`${text.slice(0, -1)}x`)).toEqual(invalid("record not terminated by a newline"));
    expect(parseRecord(line('{"o":0,"t":1,"k":"a","v":"x"}', "00000000"), 0, 0)).toEqual(
      invalid("checksum mismatch"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":"a","v":"x"'), 0, 0)).toEqual(
      invalid("payload is not JSON"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":"a","j":{"n":1}]'), 0, 0)).toEqual(
      invalid("payload is not JSON"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":"a,"j":1}'), 0, 0)).toEqual(
      invalid("payload is not JSON"),
    );
    expect(parseRecord(line('{"o":5,"t":1,"k":"a","v":"x"}'), 0, 0)).toEqual(
      invalid("offset 5 where 0 was expected"),
    );
    expect(parseRecord(line('{"t":1,"k":"a","v":"x"}'), 0, 0)).toEqual(
      invalid("offset undefined where 0 was expected"),
    );
    expect(parseRecord(line('{"o":0,"t":"1","k":"a","v":"x"}'), 0, 0)).toEqual(
      invalid("bad record fields"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":7,"v":"x"}'), 0, 0)).toEqual(
      invalid("bad record fields"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":"a"}'), 0, 0)).toEqual(
      invalid("record has no value"),
    );
    expect(parseRecord(line('{"o":0,"t":1,"k":"a","v":1,"b":2}'), 0, 0)).toEqual(
      invalid("record has no value"),
    );
  });

  it("calls a line still being written incomplete, not damaged", () => {
    const good = line('{"o":0,"t":1,"k":"a","v":"x"}');
    for (const cut of [1, 2, 5, 12, good.length - 1])
      expect(parseRecord(good.subarray(0, cut), 0, 0), `cut at ${cut}`).toEqual({
        kind: "incomplete",
      });
    // ten digits and no space yet: a length field still arriving (up to 10 digits fit)
    expect(parseRecord(Buffer.from("1234567890"), 0, 0)).toEqual({ kind: "incomplete" });
    expect(parseRecord(Buffer.from("12345x"), 0, 0)).toEqual(invalid("bad length field"));
    // eleven digits or more with no space cannot be a length field any more
    expect(parseRecord(Buffer.from("12345678901"), 0, 0)).toEqual(invalid("bad length field"));
    expect(parseRecord(Buffer.from("123456789012"), 0, 0)).toEqual(invalid("bad length field"));
    // counted from the record's start, not from the buffer's
    expect(parseRecord(Buffer.from("xx1234567"), 2, 0)).toEqual({ kind: "incomplete" });
    // only ASCII digits: '/' sits just below '0'
    expect(parseRecord(Buffer.from("12/"), 0, 0)).toEqual(invalid("bad length field"));
    expect(parseRecord(Buffer.from("1/ 00000000 {}\n"), 0, 0)).toEqual(invalid("bad length field"));
    // a length of exactly the maximum is allowed (and here still arriving)
    expect(parseRecord(Buffer.from(`${MAX_RECORD_BYTES} 00000000 {`), 0, 0)).toEqual({
      kind: "incomplete",
    });
    expect(HEADER_BYTES).toBe(20);
  });

  it("a torn tail is a last line without its newline, or zeros", () => {
    const good = line('{"o":0,"t":1,"k":"a","v":"x"}');
    expect(isTornTail(good.subarray(0, 10), 0)).toBe(true);
    expect(isTornTail(Buffer.concat([good, Buffer.alloc(64)]), good.length)).toBe(true);
    expect(isTornTail(good, 0)).toBe(false);
    expect(isTornTail(Buffer.from("\nabc"), 0)).toBe(false);
    expect(isTornTail(Buffer.concat([Buffer.from([0, 1, 0]), Buffer.from("\n")]), 0)).toBe(false);
  });
});

describe("RecordEncoder", () => {
  it("writes records back to back, returns where each starts, and starts over after take", () => {
    const encoder = new RecordEncoder();
    const a = { offset: 0, timestamp: 1, key: "a", value: '{"n":1}' };
    const b = { offset: 1, timestamp: 2, key: null, value: Buffer.from("plain") };
    expect(encoder.add(a)).toBe(0);
    const second = encoder.add(b);
    const bytes = Buffer.from(encoder.take());
    expect(bytes).toEqual(
      Buffer.concat([
        line('{"o":0,"t":1,"k":"a","j":{"n":1}}'),
        line('{"o":1,"t":2,"k":null,"v":"plain"}'),
      ]),
    );
    expect(second).toBe(line('{"o":0,"t":1,"k":"a","j":{"n":1}}').length);
    expect(encoder.add(b)).toBe(0);
    expect(Buffer.from(encoder.take())).toEqual(line('{"o":1,"t":2,"k":null,"v":"plain"}'));
    expect(encoder.take()).toHaveLength(0);
  });

  it("grows for large values and many records without losing a byte", () => {
    const encoder = new RecordEncoder();
    const big = `"${"é".repeat(40_000)}"`; // 80 kB of UTF-8 in a 40k-character string
    const records = Array.from({ length: 5 }, (_, i) => ({
      offset: i,
      timestamp: i,
      key: `k${i}`,
      value: i === 2 ? big : `{"i":${i}}`,
    }));
    const starts = records.map((r) => encoder.add(r));
    const buf = Buffer.from(encoder.take());
    records.forEach((r, i) => {
      const step = parseRecord(buf, starts[i]!, i);
      expect(step.kind, `record ${i}`).toBe("record");
      if (step.kind === "record") expect(step.record.value.toString("utf8")).toBe(r.value);
    });
    expect(buf.length).toBeGreaterThan(80_000);
  });

  it("a first record bigger than the initial buffer (64 kB), or than twice it, is written whole", () => {
    for (const size of [100_000, 150_000]) {
      const encoder = new RecordEncoder();
      const value = `"${"v".repeat(size)}"`;
      encoder.add({ offset: 0, timestamp: 0, key: "k", value });
      const buf = Buffer.from(encoder.take());
      const step = parseRecord(buf, 0, 0);
      expect(step.kind, `${size}`).toBe("record");
      expect(step.kind === "record" && step.length).toBe(buf.length);
    }
  });

  it("a record that overfills the initial buffer by one or two bytes keeps its newline", () => {
    // header "<len> <crc8> " + payload + "\n": find value sizes whose record is 65,537 and 65,538 bytes
    const payloadOf = (n: number) => `{"o":0,"t":0,"k":"k","j":"${"v".repeat(n)}"}`;
    const total = (n: number) => {
      const length = Buffer.byteLength(payloadOf(n));
      return String(length).length + 1 + 8 + 1 + length + 1;
    };
    for (const target of [65_537, 65_538]) {
      let n = 65_400;
      while (total(n) < target) n++;
      expect(total(n)).toBe(target);
      const encoder = new RecordEncoder();
      encoder.add({ offset: 0, timestamp: 0, key: "k", value: `"${"v".repeat(n)}"` });
      const buf = Buffer.from(encoder.take());
      expect(buf.length).toBe(target);
      expect(buf[buf.length - 1]).toBe(0x0a);
      expect(parseRecord(buf, 0, 0).kind).toBe("record");
    }
  });

  it("a checksum with leading zeros keeps its 8 hex digits", () => {
    let i = 0;
    const payloadOf = (n: number) => `{"o":0,"t":0,"k":"k","j":${n}}`;
    while (crc32(Buffer.from(payloadOf(i))) >= 0x1000_0000) i++;
    const bytes = encodeRecord({ offset: 0, timestamp: 0, key: "k", value: String(i) });
    const [, crc] = bytes.toString().split(" ");
    expect(crc).toMatch(/^0[0-9a-f]{7}$/);
    expect(parseRecord(bytes, 0, 0).kind).toBe("record");
  });

  it("encodeRecord returns its own copy", () => {
    const first = encodeRecord({ offset: 0, timestamp: 1, key: "a", value: '{"n":1}' });
    const copy = Buffer.from(first);
    encodeRecord({ offset: 9, timestamp: 9, key: "zzzz", value: '{"n":99999}' });
    expect(first).toEqual(copy);
  });
});
