import { describe, expect, it } from "vitest";
import { parseExperimentDefinition } from "./definition.ts";
import { ExperimentTransitionError, ExperimentValidationError } from "./errors.ts";
import { editExperiment, transitionExperiment, validateExperiment } from "./lifecycle.ts";
import { sampleDefinition } from "./test-definitions.ts";

function issuesOf(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentValidationError);
    return (error as ExperimentValidationError).issues;
  }
  throw new Error("expected a validation error");
}

const running = parseExperimentDefinition(sampleDefinition({ status: "running" }));

describe("namespace ranges", () => {
  const other = parseExperimentDefinition(
    sampleDefinition({
      key: "other",
      namespace: "home",
      rangeStart: 0,
      rangeEnd: 0.5,
      status: "running",
    }),
  );

  it("rejects an experiment whose range overlaps a live one in the same namespace, naming it", () => {
    const issues = issuesOf(() =>
      validateExperiment(sampleDefinition({ namespace: "home", rangeStart: 0.4, rangeEnd: 1 }), [
        other,
      ]),
    );
    expect(issues).toEqual([
      {
        field: "rangeStart",
        message: expect.stringContaining('overlaps experiment "other" [0, 0.5)'),
      },
    ]);
  });

  it("allows adjacent half-open ranges, other namespaces and ranges freed by stopped experiments", () => {
    expect(
      validateExperiment(sampleDefinition({ namespace: "home", rangeStart: 0.5, rangeEnd: 1 }), [
        other,
      ]).rangeStart,
    ).toBe(0.5);
    expect(
      validateExperiment(sampleDefinition({ namespace: "search", rangeStart: 0.2 }), [other])
        .namespace,
    ).toBe("search");
    const stopped = { ...other, status: "stopped" as const };
    expect(validateExperiment(sampleDefinition({ namespace: "home" }), [stopped]).namespace).toBe(
      "home",
    );
  });

  it("lets experiments in the shared default namespace overlap (independent layers)", () => {
    const first = parseExperimentDefinition(sampleDefinition({ key: "first", status: "running" }));
    expect(validateExperiment(sampleDefinition({ key: "second" }), [first]).namespace).toBe(
      "default",
    );
    expect(
      transitionExperiment(
        parseExperimentDefinition(sampleDefinition({ key: "second" })),
        { to: "running" },
        [first],
      ).status,
    ).toBe("running");
  });

  it("ignores the experiment's own stored version when re-validating", () => {
    const self = parseExperimentDefinition(sampleDefinition());
    expect(validateExperiment(sampleDefinition({ hypothesis: "edited" }), [self]).hypothesis).toBe(
      "edited",
    );
  });
});

describe("lifecycle transitions", () => {
  it("runs draft → running → stopped → concluded, recording the decision", () => {
    const draft = parseExperimentDefinition(sampleDefinition());
    const started = transitionExperiment(draft, { to: "running" });
    const stopped = transitionExperiment(started, { to: "stopped" });
    const concluded = transitionExperiment(stopped, {
      to: "concluded",
      decision: "ranker-v2",
      decisionReason: "+4 % CTR",
    });
    expect([started.status, stopped.status, concluded.status]).toEqual([
      "running",
      "stopped",
      "concluded",
    ]);
    expect(concluded).toMatchObject({ decision: "ranker-v2", decisionReason: "+4 % CTR" });
  });

  it("refuses to start without variants or a primary metric, naming both fields", () => {
    const draft = parseExperimentDefinition({ key: "bare" });
    expect(
      issuesOf(() => transitionExperiment(draft, { to: "running" })).map((i) => i.field),
    ).toEqual(["variants", "primaryMetric"]);
  });

  it("refuses to start into a namespace range already taken", () => {
    const taken = parseExperimentDefinition(
      sampleDefinition({ key: "taken", status: "running", namespace: "home" }),
    );
    const draft = parseExperimentDefinition(sampleDefinition({ namespace: "home" }));
    expect(issuesOf(() => transitionExperiment(draft, { to: "running" }, [taken]))[0]?.field).toBe(
      "rangeStart",
    );
  });

  it("rejects skipping or reversing steps with a conflict", () => {
    const draft = parseExperimentDefinition(sampleDefinition());
    expect(() => transitionExperiment(draft, { to: "concluded", decision: "control" })).toThrow(
      ExperimentTransitionError,
    );
    expect(() => transitionExperiment(running, { to: "running" })).toThrow(
      /can only become stopped/,
    );
    const concluded = parseExperimentDefinition(
      sampleDefinition({ status: "concluded", decision: "control" }),
    );
    expect(() => transitionExperiment(concluded, { to: "stopped" })).toThrow(/final/);
  });

  it("requires a decision naming a variant to conclude", () => {
    const stopped = parseExperimentDefinition(sampleDefinition({ status: "stopped" }));
    expect(issuesOf(() => transitionExperiment(stopped, { to: "concluded" }))[0]?.field).toBe(
      "decision",
    );
    expect(
      issuesOf(() => transitionExperiment(stopped, { to: "concluded", decision: "ghost" }))[0]
        ?.field,
    ).toBe("decision");
  });
});

describe("edits", () => {
  it("lets a draft change anything valid", () => {
    const draft = parseExperimentDefinition(sampleDefinition());
    const variants = [
      { name: "control", weight: 70, strategy: "popularity" },
      { name: "ranker-v2", weight: 30, modelVersionId: 7 },
    ];
    expect(editExperiment(draft, { variants }).variants.map((v) => v.weight)).toEqual([70, 30]);
  });

  it("rejects changing the weights of a running experiment, naming each weight", () => {
    const variants = [
      { name: "control", weight: 60, strategy: "popularity" },
      { name: "ranker-v2", weight: 40, modelVersionId: 7 },
    ];
    const issues = issuesOf(() => editExperiment(running, { variants }));
    expect(issues).toEqual([
      { field: "variants[0].weight", message: "cannot change while the experiment is running" },
      { field: "variants[1].weight", message: "cannot change while the experiment is running" },
    ]);
  });

  it("names the third variant's weight when only that one changes", () => {
    const three = parseExperimentDefinition(
      sampleDefinition({
        status: "running",
        variants: [
          { name: "a", weight: 40, strategy: "s" },
          { name: "b", weight: 30, strategy: "s" },
          { name: "c", weight: 30, strategy: "s" },
        ],
      }),
    );
    const variants = three.variants.map((v, i) => (i === 2 ? { ...v, weight: 29 } : v));
    const fields = issuesOf(() => editExperiment(three, { variants })).map((i) => i.field);
    // the sum check fires first: 99 % is not a valid definition at all
    expect(fields).toEqual(["variants"]);
    const swapped = three.variants.map((v, i) =>
      i === 1 ? { ...v, weight: 29 } : i === 2 ? { ...v, weight: 31 } : v,
    );
    expect(
      issuesOf(() => editExperiment(three, { variants: swapped })).map((i) => i.field),
    ).toEqual(["variants[1].weight", "variants[2].weight"]);
  });

  it("rejects seed, allocation and metric changes while running but allows hypothesis and owner", () => {
    const fields = issuesOf(() =>
      editExperiment(running, { seed: "new", trafficAllocation: 0.5, primaryMetric: "watch_rate" }),
    ).map((i) => i.field);
    expect(fields.sort()).toEqual(["primaryMetric", "seed", "trafficAllocation"]);
    expect(editExperiment(running, { hypothesis: "clarified", owner: "someone" })).toMatchObject({
      hypothesis: "clarified",
      owner: "someone",
    });
  });

  it("freezes stopped experiments and refuses status changes through edit", () => {
    const stopped = parseExperimentDefinition(sampleDefinition({ status: "stopped" }));
    expect(issuesOf(() => editExperiment(stopped, { owner: "x" }))[0]).toEqual({
      field: "owner",
      message: "cannot change while the experiment is stopped",
    });
    expect(issuesOf(() => editExperiment(running, { status: "draft" }))[0]?.field).toBe("status");
  });
});
