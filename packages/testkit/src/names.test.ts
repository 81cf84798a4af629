import { describe, expect, it } from "vitest";
import { kafkaClusterId, uniqueName } from "./names.ts";

describe("uniqueName", () => {
  it("starts with the prefix and never repeats", () => {
    const names = Array.from({ length: 1000 }, () => uniqueName("orders"));
    expect(new Set(names).size).toBe(1000);
    for (const name of names) expect(name.startsWith("orders_")).toBe(true);
  });

  it("is a valid Kafka topic name and unquoted PostgreSQL identifier", () => {
    const name = uniqueName("events");
    expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });
});

describe("kafkaClusterId", () => {
  it("is 22 characters of URL-safe base64 (16 bytes), never starting with a dash", () => {
    // Unfixed, about 1 id in 64 starts with "-": 2,000 ids would hold ~31 of them.
    for (let i = 0; i < 2_000; i++) {
      const id = kafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, "base64url")).toHaveLength(16);
    }
  });
});
