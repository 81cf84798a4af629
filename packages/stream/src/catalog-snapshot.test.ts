import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CatalogChange } from "@reco/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CatalogPartitionCache,
  applyCatalogChange,
  parseCatalogChange,
  readCatalogPartition,
  writeCatalogPartition,
  type CatalogEntry,
} from "./catalog-snapshot.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "catalog-snapshot-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function entry(itemId: string, title: string, updatedAt: string, offset: number): CatalogEntry {
  const change: CatalogChange = {
    type: "catalog.item",
    itemId,
    title,
    genres: [],
    tags: [],
    year: null,
    available: true,
    availableFrom: null,
    availableUntil: null,
    deletedAt: null,
    updatedAt,
  };
  return { change, updatedAtMs: Date.parse(updatedAt), partition: 0, offset: BigInt(offset) };
}

const titles = (items: Map<string, CatalogEntry>) =>
  Object.fromEntries([...items].map(([id, e]) => [id, e.change.title]));

describe("applyCatalogChange", () => {
  it("a later updatedAt wins; an older one, or the same change again, does nothing; equal times: the later offset", () => {
    const items = new Map<string, CatalogEntry>();
    expect(applyCatalogChange(items, entry("a", "v1", "2026-01-01T10:00:00Z", 5))).toBe(true);
    expect(applyCatalogChange(items, entry("a", "v2", "2026-01-01T11:00:00Z", 6))).toBe(true);
    expect(applyCatalogChange(items, entry("a", "v1", "2026-01-01T10:00:00Z", 5))).toBe(false);
    expect(applyCatalogChange(items, entry("a", "v2", "2026-01-01T11:00:00Z", 6))).toBe(false);
    expect(titles(items)).toEqual({ a: "v2" });
    expect(applyCatalogChange(items, entry("a", "v2b", "2026-01-01T11:00:00Z", 7))).toBe(true);
    expect(applyCatalogChange(items, entry("a", "v2a", "2026-01-01T11:00:00Z", 4))).toBe(false);
    expect(titles(items)).toEqual({ a: "v2b" });
  });
});

describe("parseCatalogChange", () => {
  it("names the field of a time that is not ISO-8601", () => {
    const bytes = Buffer.from(
      JSON.stringify({
        ...entry("a", "t", "2026-01-01T10:00:00Z", 0).change,
        availableUntil: "soon",
      }),
    );
    expect(parseCatalogChange(bytes)).toEqual({
      ok: false,
      reason: 'invalid: availableUntil: not an ISO-8601 time ("soon")',
    });
  });
});

describe("CatalogPartitionCache", () => {
  it("reads a file replaced by someone else (a previous owner's late write) instead of what it holds", async () => {
    const files = new CatalogPartitionCache(root);
    const mine = new Map([["a", entry("a", "mine", "2026-01-01T10:00:00Z", 1)]]);
    await files.write(0, mine);
    // Another process rewrites the partition's file.
    await writeCatalogPartition(
      root,
      0,
      new Map([
        ["a", entry("a", "mine", "2026-01-01T10:00:00Z", 1)],
        ["b", entry("b", "theirs", "2026-01-01T10:30:00Z", 2)],
      ]),
    );
    expect(titles(await files.load(0))).toEqual({ a: "mine", b: "theirs" });
  });

  it("entries changed but never written back are not served again: the next load reads the file", async () => {
    const files = new CatalogPartitionCache(root);
    await files.write(0, new Map([["a", entry("a", "on disk", "2026-01-01T10:00:00Z", 1)]]));
    const held = await files.load(0);
    applyCatalogChange(held, entry("a", "lost write", "2026-01-01T11:00:00Z", 2));
    // (the write failed here)
    expect(titles(await files.load(0))).toEqual({ a: "on disk" });
    expect(titles(await readCatalogPartition(root, 0))).toEqual({ a: "on disk" });
  });
});
