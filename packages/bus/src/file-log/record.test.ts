import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { encodeRecord, parseRecord } from "./record.ts";

const read = (line: Buffer, offset = 7) => parseRecord(line, 0, offset);

describe("file-log record format", () => {
  it("stores a producer's JSON inline and reads the very bytes back", () => {
    const json = '{"a":1,"j":"x,\\"j\\":","k":null}'; // even a value holding `,"j":` is read whole
    const line = encodeRecord({ offset: 7, timestamp: 1000, key: 'u,"j":1', value: json });
    expect(line.toString()).toMatch(
      /^\d+ [0-9a-f]{8} \{"o":7,"t":1000,"k":"u,\\"j\\":1","j":\{"a":1/,
    );
    const step = read(line);
    expect(step.kind).toBe("record");
    if (step.kind !== "record") return;
    expect(step.record.value.toString("utf8")).toBe(json);
    expect(step.record).toMatchObject({ offset: 7, timestamp: 1000, key: 'u,"j":1' });
    expect(step.length).toBe(line.length);
  });

  it("still reads records written before the inline form (value as a JSON string) byte for byte", () => {
    const value = Buffer.from('{"b":"ü ✓"}');
    const payload = JSON.stringify({ o: 7, t: 5, k: "u", v: value.toString("utf8") });
    const old = Buffer.from(`${Buffer.byteLength(payload)} ${crc(payload)} ${payload}\n`);
    expect(encodeRecord({ offset: 7, timestamp: 5, key: "u", value })).toEqual(old);
    const step = read(old);
    expect(step.kind === "record" && step.record.value.equals(value)).toBe(true);
  });

  it("keeps non-UTF-8 bytes as base64 and returns them unchanged", () => {
    const value = Buffer.from([0xff, 0x00, 0x0a, 0x80]);
    const step = read(encodeRecord({ offset: 7, timestamp: 5, key: "u", value }));
    expect(step.kind === "record" && step.record.value.equals(value)).toBe(true);
  });

  it("calls an inline record with a damaged header or end invalid, not a record", () => {
    const line = encodeRecord({ offset: 7, timestamp: 5, key: "u", value: '{"n":1}' });
    expect(read(line, 8)).toEqual({
      kind: "invalid",
      reason: "offset 7 where 8 was expected",
    });
    const damaged = Buffer.from(line);
    damaged[damaged.length - 2] = 0x20; // the closing brace
    expect(read(damaged).kind).toBe("invalid");
  });
});

function crc(text: string): string {
  return zlibCrc32(text).toString(16).padStart(8, "0");
}
