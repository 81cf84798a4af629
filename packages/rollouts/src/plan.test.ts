import { describe, expect, it } from "vitest";
import { parseRolloutInput } from "./plan.ts";
import { RolloutValidationError } from "./errors.ts";

const candidate = { name: "ials", version: "v2" };

function issues(input: unknown): { field: string; message: string }[] {
  try {
    parseRolloutInput(input);
  } catch (error) {
    if (error instanceof RolloutValidationError) return error.issues;
    throw error;
  }
  throw new Error("expected a validation error");
}

describe("parseRolloutInput", () => {
  it("fills the default stages 5 → 50 → 100 and gates", () => {
    const parsed = parseRolloutInput({ candidate });
    expect(parsed.plan.stages.map((stage) => stage.trafficPct)).toEqual([5, 50, 100]);
    expect(parsed.plan.gates.ctrMarginPct).toBe(5);
    expect(parsed.plan.evaluationIntervalMs).toBe(60_000);
  });

  it("names stages that do not increase and a last stage below 100", () => {
    const found = issues({
      candidate,
      stages: [{ trafficPct: 50 }, { trafficPct: 20 }, { trafficPct: 90 }],
    });
    expect(found).toEqual([
      { field: "stages[1].trafficPct", message: "must be above the previous stage's 50" },
      {
        field: "stages[2].trafficPct",
        message: "the last stage must send 100 % of users to the candidate",
      },
    ]);
  });

  it.each([
    [{ trafficPct: 0 }, "stages[0].trafficPct"],
    [{ trafficPct: 101 }, "stages[0].trafficPct"],
    [{ trafficPct: 100, minDurationS: -1 }, "stages[0].minDurationS"],
    [{ trafficPct: 100, minUsersPerArm: 1.5 }, "stages[0].minUsersPerArm"],
  ])("rejects stage %j at %s", (stage, field) => {
    expect(issues({ candidate, stages: [stage] }).map((i) => i.field)).toContain(field);
  });

  it("refuses candidate = baseline, bad webhook URLs and a missing candidate", () => {
    expect(issues({ candidate, baseline: candidate })[0]!.field).toBe("candidate");
    expect(issues({ candidate, webhookUrl: "ftp://x/y" })[0]!.field).toBe("webhookUrl");
    expect(issues({ candidate, webhookUrl: "https://user:pw@example.test/" })[0]!.field).toBe(
      "webhookUrl",
    );
    expect(issues({})[0]!.field).toBe("candidate");
  });
});
