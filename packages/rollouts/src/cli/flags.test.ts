import { describe, expect, it } from "vitest";
import { DEFAULT_STAGES } from "../plan.ts";
import { flagOfField, parseVersionRef, startRequest } from "./flags.ts";

describe("rollout CLI flags", () => {
  it("builds the start request: stages with their minimums, margins, interval", () => {
    expect(
      startRequest({
        candidate: "item-knn@2026-01-01",
        baseline: "ials@v1",
        stages: "5, 50,100",
        "min-duration": "30",
        "min-users": "200",
        interval: "5",
        "ctr-margin": "2.5",
        "error-margin": "0.005",
        webhook: "https://hooks.example/r",
        reason: "why",
      }),
    ).toEqual({
      candidate: { name: "item-knn", version: "2026-01-01" },
      baseline: { name: "ials", version: "v1" },
      stages: [5, 50, 100].map((trafficPct) => ({
        trafficPct,
        minDurationS: 30,
        minUsersPerArm: 200,
      })),
      gates: { ctrMarginPct: 2.5, errorRateMargin: 0.005 },
      evaluationIntervalS: 5,
      webhookUrl: "https://hooks.example/r",
      reason: "why",
    });
  });

  it("leaves the defaults to the plan, or overrides the default stages' minimums only", () => {
    expect(startRequest({ candidate: "m@v2" })).toEqual({
      candidate: { name: "m", version: "v2" },
    });
    expect(startRequest({ candidate: "m@v2", "min-users": "10" }).stages).toEqual(
      DEFAULT_STAGES.map((stage) => ({ ...stage, minUsersPerArm: 10 })),
    );
    expect(parseVersionRef("candidate", "a@b@c")).toEqual({ name: "a@b", version: "c" });
  });

  it("names the flag of a bad value, and maps plan fields back to flags", () => {
    expect(() => startRequest({})).toThrow("--candidate: is required");
    expect(() => startRequest({ candidate: "m@" })).toThrow("--candidate: expected name@version");
    expect(() => startRequest({ candidate: "m@v", stages: "5,,100" })).toThrow("--stages:");
    expect(() => startRequest({ candidate: "m@v", "min-duration": "-1" })).toThrow(
      "--min-duration: expected a whole number",
    );
    expect(() => startRequest({ candidate: "m@v", "ctr-margin": "200" })).toThrow(
      "--ctr-margin: must be between 0 and 100, got 200",
    );
    expect(flagOfField("stages[2].minUsersPerArm")).toBe("--min-users (stages[2].minUsersPerArm)");
    expect(flagOfField("gates.alpha")).toBe("gates.alpha");
  });
});
