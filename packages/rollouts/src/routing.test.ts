import { assignVariant, type ExperimentDefinition } from "@reco/experiments";
import { describe, expect, it } from "vitest";
import { rolloutArm } from "./routing.ts";

const USERS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe("rollout routing", () => {
  it("sends 5 ± 0.5 % of 20,000 users to the candidate at the 5 % stage", () => {
    const share = USERS.filter((u) => rolloutArm(42, u, 5) === "candidate").length / USERS.length;
    expect(share).toBeGreaterThanOrEqual(0.045);
    expect(share).toBeLessThanOrEqual(0.055);
  });

  it("is sticky: the same arm on every call, and every 5 % candidate stays one at 50 %", () => {
    const at5 = USERS.filter((u) => rolloutArm(42, u, 5) === "candidate");
    expect(at5.every((u) => rolloutArm(42, u, 5) === "candidate")).toBe(true);
    expect(at5.every((u) => rolloutArm(42, u, 50) === "candidate")).toBe(true);
    const at50 = USERS.filter((u) => rolloutArm(42, u, 50) === "candidate").length;
    expect(at50 / USERS.length).toBeGreaterThan(0.48);
    expect(at50 / USERS.length).toBeLessThan(0.52);
  });

  it("is independent of experiment buckets (chi-square on the 2×2 table, p > 0.001)", () => {
    const experiment = {
      key: "exp",
      seed: "exp-seed",
      status: "running",
      namespace: "default",
      rangeStart: 0,
      rangeEnd: 1,
      trafficAllocation: 1,
      variants: [
        { name: "a", weight: 50, isControl: true },
        { name: "b", weight: 50, isControl: false },
      ],
    } as unknown as ExperimentDefinition;
    const table = [
      [0, 0],
      [0, 0],
    ];
    for (const user of USERS) {
      const row = rolloutArm(42, user, 50) === "candidate" ? 0 : 1;
      const col = assignVariant(experiment, user).variant === "a" ? 0 : 1;
      table[row]![col]!++;
    }
    const total = USERS.length;
    let chi = 0;
    for (const r of [0, 1])
      for (const c of [0, 1]) {
        const expected =
          ((table[r]![0]! + table[r]![1]!) * (table[0]![c]! + table[1]![c]!)) / total;
        chi += (table[r]![c]! - expected) ** 2 / expected;
      }
    // 10.83 is the 0.999 quantile of chi-square with 1 degree of freedom
    expect(chi).toBeLessThan(10.83);
  });

  it("gives different rollouts different buckets", () => {
    const a = USERS.filter((u) => rolloutArm(1, u, 50) === "candidate");
    const both = a.filter((u) => rolloutArm(2, u, 50) === "candidate").length;
    expect(both / a.length).toBeGreaterThan(0.45);
    expect(both / a.length).toBeLessThan(0.55);
  });
});
