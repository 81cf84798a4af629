import { describe, expect, it } from "vitest";
import { parseRetrainInterval } from "./interval.ts";

describe("parseRetrainInterval", () => {
  it("reads units, bare seconds, and the default of six hours", () => {
    expect(parseRetrainInterval(undefined)).toBe(6 * 60 * 60 * 1000);
    expect(parseRetrainInterval("6h")).toBe(21_600_000);
    expect(parseRetrainInterval("30m")).toBe(1_800_000);
    expect(parseRetrainInterval("90")).toBe(90_000);
    expect(parseRetrainInterval("1.5s")).toBe(1_500);
    expect(parseRetrainInterval("1d")).toBe(86_400_000);
  });
  it("0 and off disable the schedule", () => {
    expect(parseRetrainInterval("0")).toBeNull();
    expect(parseRetrainInterval("OFF")).toBeNull();
    expect(parseRetrainInterval("0h")).toBeNull();
  });
  it("names the variable and the value it refuses", () => {
    expect(() => parseRetrainInterval("soon")).toThrow(
      /RETRAIN_INTERVAL: "soon" is not an interval/,
    );
    expect(() => parseRetrainInterval("200ms")).toThrow(/shorter than one second/);
  });
});
