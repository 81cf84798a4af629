import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { assignVariant, hashToUnit } from "./assignment.ts";
import { parseExperimentDefinition } from "./definition.ts";
import { sampleDefinition } from "./test-definitions.ts";

const users = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

function running(overrides: Parameters<typeof sampleDefinition>[0] = {}) {
  return parseExperimentDefinition(sampleDefinition({ status: "running", ...overrides }));
}

function counts(def: ReturnType<typeof running>): Map<string, number> {
  const result = new Map<string, number>();
  for (const user of users) {
    const a = assignVariant(def, user);
    const key = a.inExperiment ? a.variant : `(${a.reason})`;
    result.set(key, (result.get(key) ?? 0) + 1);
  }
  return result;
}

describe("hashToUnit", () => {
  it("is SHA-256(seed ‖ NUL ‖ user) → first 48 bits / 2^48, in [0, 1)", () => {
    const digest = createHash("sha256").update("seed\u0000user-1").digest("hex");
    expect(hashToUnit("seed", "user-1")).toBe(parseInt(digest.slice(0, 12), 16) / 2 ** 48);
    // Pinned against Python's hashlib (see README): changing the scheme would reassign every user.
    expect(hashToUnit("home-ranker", "user-42")).toBe(0.18415837743269847);
    expect(hashToUnit("ab", "c")).not.toBe(hashToUnit("a", "bc"));
  });

  it("gives the same bucket in a fresh process", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = `const c=require("node:crypto");const d=c.createHash("sha256").update("s1\\u0000u9").digest();process.stdout.write(String(d.readUIntBE(0,6)/2**48))`;
    expect(Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }))).toBe(
      hashToUnit("s1", "u9"),
    );
  });
});

describe("assignVariant", () => {
  it("is sticky: the same user always gets the same variant", () => {
    const def = running();
    for (const user of users.slice(0, 1000))
      expect(assignVariant(def, user)).toEqual(assignVariant(structuredClone(def), user));
  });

  it("splits 100k users by weight within tolerance (70/20/10)", () => {
    const def = running({
      variants: [
        { name: "a", weight: 70, strategy: "s" },
        { name: "b", weight: 20, strategy: "s" },
        { name: "c", weight: 10, strategy: "s" },
      ],
    });
    const c = counts(def);
    // binomial sd at n=100k is ≤ 145 users; 5 sd
    expect(Math.abs(c.get("a")! - 70_000)).toBeLessThan(725);
    expect(Math.abs(c.get("b")! - 20_000)).toBeLessThan(650);
    expect(Math.abs(c.get("c")! - 10_000)).toBeLessThan(475);
  });

  it("puts users outside the traffic allocation on the control without exposure", () => {
    const c = counts(running({ trafficAllocation: 0.3 }));
    expect(Math.abs(c.get("control")! - 15_000)).toBeLessThan(600);
    expect(Math.abs(c.get("ranker-v2")! - 15_000)).toBeLessThan(600);
    expect(Math.abs(c.get("(outside_allocation)")! - 70_000)).toBeLessThan(725);
    const partial = running({ trafficAllocation: 0.3 });
    const outsider = users.find((u) => !assignVariant(partial, u).inExperiment)!;
    expect(assignVariant(partial, outsider)).toMatchObject({
      variant: "control",
      reason: "outside_allocation",
    });
  });

  it("keeps every assigned user on the same variant when the allocation grows", () => {
    const small = running({ trafficAllocation: 0.2 });
    const large = running({ trafficAllocation: 0.8 });
    let moved = 0;
    let kept = 0;
    for (const user of users.slice(0, 20_000)) {
      const before = assignVariant(small, user);
      if (!before.inExperiment) continue;
      if (assignVariant(large, user).variant === before.variant) kept++;
      else moved++;
    }
    expect(moved).toBe(0);
    expect(kept).toBeGreaterThan(3_500);
  });

  it("never gives a user to two experiments with disjoint ranges of one namespace", () => {
    const left = running({ key: "left", namespace: "home", rangeStart: 0, rangeEnd: 0.4 });
    const right = running({ key: "right", namespace: "home", rangeStart: 0.4, rangeEnd: 1 });
    let inLeft = 0;
    let inBoth = 0;
    let inNeither = 0;
    for (const user of users) {
      const l = assignVariant(left, user).inExperiment;
      const r = assignVariant(right, user).inExperiment;
      if (l && r) inBoth++;
      if (!l && !r) inNeither++;
      if (l) inLeft++;
    }
    expect({ inBoth, inNeither }).toEqual({ inBoth: 0, inNeither: 0 });
    expect(Math.abs(inLeft - 40_000)).toBeLessThan(800);
  });

  it("assigns independently across experiments with different seeds", () => {
    const first = running({ key: "first" });
    const second = running({ key: "second" });
    const table = [
      [0, 0],
      [0, 0],
    ];
    for (const user of users) {
      const a = assignVariant(first, user).variant === "control" ? 0 : 1;
      const b = assignVariant(second, user).variant === "control" ? 0 : 1;
      table[a]![b]!++;
    }
    // χ² test of independence on the 2×2 table; 10.83 is the 0.001 critical value with 1 df
    const n = users.length;
    let chi2 = 0;
    for (const i of [0, 1]) {
      for (const j of [0, 1]) {
        const row = table[i]![0]! + table[i]![1]!;
        const col = table[0]![j]! + table[1]![j]!;
        const expected = (row * col) / n;
        chi2 += (table[i]![j]! - expected) ** 2 / expected;
      }
    }
    expect(chi2).toBeLessThan(10.83);
    // and each quadrant holds about a quarter of the users
    for (const row of table)
      for (const cell of row) expect(Math.abs(cell - 25_000)).toBeLessThan(700);
  });

  it("serves the control, unexposed, when the experiment is not running", () => {
    const draft = parseExperimentDefinition(sampleDefinition());
    expect(assignVariant(draft, "user-1")).toEqual({
      experimentKey: "home-ranker",
      variant: "control",
      inExperiment: false,
      reason: "not_running",
    });
  });
});

describe("assignVariant at the edges of its ranges", () => {
  /** SHA-256(seed ‖ NUL ‖ user), first 48 bits / 2⁴⁸, computed here with node:crypto. */
  const unit = (seed: string, user: string) =>
    createHash("sha256").update(`${seed}\u0000${user}`).digest().readUIntBE(0, 6) / 2 ** 48;

  it("the namespace slot is the hash of namespace:<name>, and the range is [start, end)", () => {
    const user = "user-7";
    const slot = unit("namespace:home", user);
    const inRange = (rangeStart: number, rangeEnd: number) =>
      assignVariant(running({ namespace: "home", rangeStart, rangeEnd }), user);
    // the user's own slot as the start is inside, as the end is outside
    expect(inRange(slot, 1)).toMatchObject({ inExperiment: true, reason: "assigned" });
    expect(inRange(0, slot)).toEqual({
      experimentKey: "home-ranker",
      variant: "control",
      inExperiment: false,
      reason: "outside_namespace_range",
    });
    // and which users are in a half range is decided by that hash alone
    const def = running({ namespace: "home", rangeStart: 0, rangeEnd: 0.5 });
    for (const u of users.slice(0, 500))
      expect(assignVariant(def, u).inExperiment).toBe(unit("namespace:home", u) < 0.5);
  });

  it("a variant owns [its start, its start + allocation × weight): a bucket on the edge goes to the next", () => {
    const user = "user-3";
    const bucket = unit("edge-seed", user);
    // a control weight w with w / 100 exactly the user's bucket (searched among nearby doubles)
    const view = new DataView(new ArrayBuffer(8));
    let w = bucket * 100;
    for (let i = 0; i < 64 && w / 100 !== bucket; i++) {
      view.setFloat64(0, w);
      view.setBigUint64(0, view.getBigUint64(0) + (w / 100 < bucket ? 1n : -1n));
      w = view.getFloat64(0);
    }
    expect(w / 100).toBe(bucket);
    const def = running({
      seed: "edge-seed",
      variants: [
        { name: "control", weight: w, strategy: "popularity" },
        { name: "ranker-v2", weight: 100 - w, modelVersionId: 7 },
      ],
    });
    expect(assignVariant(def, user)).toEqual({
      experimentKey: "home-ranker",
      variant: "ranker-v2",
      inExperiment: true,
      reason: "assigned",
    });
  });
});
