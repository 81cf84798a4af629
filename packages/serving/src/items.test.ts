import { BadInput } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { itemPatchSchema, itemPutSchema, parseBulkBody, type BadRow } from "./items.ts";

/** The item API's validation: each bad value is named by where it is (field, and row for bulk). */
function badRows(body: unknown): BadRow[] {
  try {
    parseBulkBody(body);
  } catch (error) {
    expect(error).toBeInstanceOf(BadInput);
    return ((error as BadInput).details as { rows: BadRow[] }).rows;
  }
  throw new Error("expected the body to be refused");
}

const messages = (schema: typeof itemPutSchema | typeof itemPatchSchema, body: unknown) => {
  const parsed = schema.safeParse(body);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
};

describe("item bodies", () => {
  it("a PUT body takes defaults for what it leaves out; categories and genres are one field", () => {
    expect(itemPutSchema.parse({ title: "A" })).toEqual({ title: "A" });
    expect(messages(itemPutSchema, { title: "A", categories: ["x"], genres: ["y"] })).toEqual([
      "genres: give categories or genres (the same field), not both",
    ]);
  });

  it("refuses unknown fields, bad dates, a window that closes before it opens, and bad labels", () => {
    expect(messages(itemPutSchema, { title: "A", colour: "red" })[0]).toContain("colour");
    expect(messages(itemPutSchema, { title: "A", availableFrom: "tomorrow" })[0]).toMatch(
      /^availableFrom: must be an ISO-8601 date-time/,
    );
    expect(messages(itemPutSchema, { title: "A", availableFrom: "2026-12-24" })[0]).toMatch(
      /^availableFrom: must be an ISO-8601 date-time/,
    );
    expect(
      messages(itemPutSchema, {
        title: "A",
        availableFrom: "2026-12-24T00:00:00Z",
        availableUntil: "2026-12-23T00:00:00Z",
      }),
    ).toEqual(["availableUntil: must be later than availableFrom"]);
    expect(messages(itemPutSchema, { title: "A", categories: ["a,b"] })).toEqual([
      "categories.0: must not contain commas or control characters",
    ]);
    expect(messages(itemPutSchema, { title: "" })).toEqual(["title: must not be empty"]);
    expect(messages(itemPutSchema, { title: "A", metadata: [1] })[0]).toMatch(/^metadata:/);
    expect(
      messages(itemPutSchema, { title: "A", metadata: { blob: "x".repeat(17 * 1024) } }),
    ).toEqual(["metadata: at most 16384 bytes of JSON"]);
    expect(messages(itemPatchSchema, {})).toEqual([": nothing to change: give at least one field"]);
    expect(itemPatchSchema.parse({ available: false })).toEqual({ available: false });
  });
});

describe("bulk bodies: all or nothing, every bad row named", () => {
  it("names each bad row by index, item id and field", () => {
    const rows = badRows({
      items: [
        { itemId: "a", title: "A" },
        { itemId: "b", title: "B", availableUntil: "never" },
        { itemId: "c", title: "C", shelf: 3 },
        { itemId: "x".repeat(257), title: "D" },
        { itemId: "a", title: "A again" },
        "not an object",
      ],
    });
    expect(rows.map((row) => [row.index, row.field])).toEqual([
      [1, "availableUntil"],
      [2, "shelf"],
      [3, "itemId"],
      [4, "itemId"],
      [5, "(row)"],
    ]);
    expect(rows[0]).toMatchObject({ itemId: "b" });
    expect(rows[1]!.message).toContain("shelf");
    expect(rows[3]!.message).toBe("the same item as row 0");
  });

  it("refuses an empty list, more than 1,000 rows and unknown top-level fields", () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ itemId: `i${i}`, title: "T" }));
    expect(() => parseBulkBody({ items: many })).toThrow("at most 1000 items per request");
    expect(parseBulkBody({ items: many.slice(0, 1000) })).toHaveLength(1000);
    expect(() => parseBulkBody({ items: [] })).toThrow("items must not be empty");
    expect(() => parseBulkBody({ items: [{ itemId: "a", title: "A" }], dryRun: true })).toThrow(
      /dryRun/,
    );
  });
});
