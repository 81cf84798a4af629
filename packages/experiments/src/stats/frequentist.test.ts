import { describe, expect, it } from "vitest";
import { relativeUplift, welchTTest } from "./frequentist.ts";
import { proportionStats } from "./sufficient-stats.ts";

describe("degenerate and invalid inputs", () => {
  it("gives p = 1 when both variants are constant and equal, p = 0 when constant and different", () => {
    const allClicked = proportionStats(100, 100);
    expect(welchTTest(allClicked, allClicked)).toMatchObject({ t: 0, pValue: 1, ci: [0, 0] });
    expect(relativeUplift(allClicked, allClicked)).toMatchObject({ uplift: 0, pValue: 1 });
    const halfOfNone = { n: 100, sum: 50, sumSquares: 25 }; // every user exactly 0.5
    const w = welchTTest(halfOfNone, allClicked);
    expect(w.pValue).toBe(0);
    expect(w.t).toBe(Infinity);
  });

  it("refuses fewer than 2 users and a zero control mean with a clear message", () => {
    expect(() => welchTTest(proportionStats(1, 1), proportionStats(10, 3))).toThrow(
      "need at least 2 users per variant (control n=1, treatment n=10)",
    );
    expect(() => relativeUplift(proportionStats(10, 0), proportionStats(10, 3))).toThrow(
      /control mean is 0/,
    );
  });

  it("agrees with itself: the uplift p-value is below α exactly when its interval excludes zero", () => {
    for (const clicks of [100, 110, 118, 119, 120, 121, 125, 140]) {
      const r = relativeUplift(proportionStats(1000, 100), proportionStats(1000, clicks));
      expect(r.pValue < 0.05).toBe(r.ci[0] > 0 || r.ci[1] < 0);
    }
  });
});
