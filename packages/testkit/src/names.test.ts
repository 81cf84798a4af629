import { describe, expect, it } from "vitest";
import { uniqueName } from "./names.ts";

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
