import { describe, expect, it } from "vitest";
import { sampleRatioMismatch } from "./srm.ts";

describe("sampleRatioMismatch", () => {
  it("reports no mismatch and a finite statistic before any user arrives", () => {
    expect(sampleRatioMismatch([0, 0], [50, 50])).toMatchObject({
      chiSquare: 0,
      pValue: 1,
      mismatch: false,
    });
  });

  it("names the problem when counts and weights do not line up", () => {
    expect(() => sampleRatioMismatch([10, 20, 30], [50, 50])).toThrow(
      "SRM needs one weight per variant and at least 2 variants (got 3 counts, 2 weights)",
    );
  });

  it("flags p just below the 0.001 threshold and not just above it", () => {
    // χ²(1) critical value at 0.001 is 10.828: 10,000 users split 5,165/4,835 → χ² = 10.89; 5,164/4,836 → 10.76
    expect(sampleRatioMismatch([5165, 4835], [50, 50]).mismatch).toBe(true);
    expect(sampleRatioMismatch([5164, 4836], [50, 50]).mismatch).toBe(false);
  });
});
