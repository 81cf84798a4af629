import { describe, expect, it } from "vitest";
import { z } from "zod";
import { randomId } from "./ids.ts";

describe("randomId", () => {
  it("makes version-4 RFC 4122 UUIDs (zod's validator and the layout of the RFC agree)", () => {
    const layout = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const uuidV4 = z.uuid({ version: "v4" });
    for (let i = 0; i < 2_000; i += 1) {
      const id = randomId();
      expect(id).toMatch(layout);
      expect(uuidV4.safeParse(id).success).toBe(true);
    }
  });

  it("does not repeat across many batches of drawn bytes", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i += 1) ids.add(randomId());
    expect(ids.size).toBe(100_000);
  });

  it("uses every hex digit at each free position (no position stuck or biased away)", () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 5_000; i += 1) {
      const id = randomId();
      for (let c = 0; c < 36; c += 1) seen[c]!.add(id[c]!);
    }
    const sizes = seen.map((s) => s.size);
    const fixed = new Map([
      [8, 1], // "-"
      [13, 1],
      [14, 1], // version "4"
      [18, 1],
      [19, 4], // variant 8, 9, a, b
      [23, 1],
    ]);
    for (let c = 0; c < 36; c += 1) expect(sizes[c], `position ${c}`).toBe(fixed.get(c) ?? 16);
  });
});
