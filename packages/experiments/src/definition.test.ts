import { describe, expect, it } from "vitest";
import { experimentDefinitionSchema, parseExperimentDefinition } from "./definition.ts";
import { ExperimentValidationError } from "./errors.ts";
import { sampleDefinition } from "./test-definitions.ts";

function fieldsOf(input: unknown): string[] {
  try {
    parseExperimentDefinition(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentValidationError);
    const e = error as ExperimentValidationError;
    expect(e.code).toBe("BAD_REQUEST");
    return e.issues.map((i) => i.field);
  }
  throw new Error("expected the definition to be rejected");
}

describe("experiment definition", () => {
  it("normalises a valid definition: seed defaults to the key, first variant becomes the control", () => {
    const def = parseExperimentDefinition(sampleDefinition());
    expect(def.seed).toBe("home-ranker");
    expect(def.status).toBe("draft");
    expect(def.variants.map((v) => v.isControl)).toEqual([true, false]);
    expect(def).toMatchObject({
      namespace: "default",
      rangeStart: 0,
      rangeEnd: 1,
      trafficAllocation: 1,
      attributionWindowS: 3600,
    });
  });

  it("keeps an explicitly flagged control", () => {
    const def = parseExperimentDefinition(
      sampleDefinition({
        variants: [
          { name: "a", weight: 50, strategy: "x" },
          { name: "b", weight: 50, strategy: "y", isControl: true },
        ],
      }),
    );
    expect(def.variants.find((v) => v.isControl)?.name).toBe("b");
  });

  it("accepts decimal weights that sum to 100 within rounding", () => {
    const variants = ["a", "b", "c"].map((name, i) => ({
      name,
      weight: i === 2 ? 33.34 : 33.33,
      strategy: "s",
    }));
    expect(parseExperimentDefinition(sampleDefinition({ variants })).variants).toHaveLength(3);
  });

  it("rejects weights not summing to 100 % and names the variants field", () => {
    const variants = [
      { name: "a", weight: 50, strategy: "s" },
      { name: "b", weight: 30, strategy: "s" },
      { name: "c", weight: 10, strategy: "s" },
    ];
    expect(() => parseExperimentDefinition(sampleDefinition({ variants }))).toThrow(
      /variants: weights must sum to 100 % but sum to 90 %/,
    );
  });

  it("names the exact weight when one is out of range", () => {
    const variants = [
      { name: "a", weight: 50, strategy: "s" },
      { name: "b", weight: 50, strategy: "s" },
      { name: "c", weight: -5, strategy: "s" },
    ];
    expect(fieldsOf(sampleDefinition({ variants }))).toContain("variants[2].weight");
  });

  it("rejects duplicate variant names at the second occurrence", () => {
    const variants = [
      { name: "a", weight: 40, strategy: "s" },
      { name: "b", weight: 30, strategy: "s" },
      { name: "a", weight: 30, strategy: "s" },
    ];
    expect(() => parseExperimentDefinition(sampleDefinition({ variants }))).toThrow(
      'variants[2].name: duplicate variant name "a" (also variants[0].name)',
    );
  });

  it("requires each variant to serve exactly one of a model version or a strategy", () => {
    const variants = [
      { name: "a", weight: 50, strategy: "s", modelVersionId: 3 },
      { name: "b", weight: 50 },
    ];
    expect(fieldsOf(sampleDefinition({ variants }))).toEqual([
      "variants[0].modelVersionId",
      "variants[1].modelVersionId",
    ]);
  });

  it("rejects two controls and an empty range", () => {
    const variants = [
      { name: "a", weight: 50, strategy: "s", isControl: true },
      { name: "b", weight: 50, strategy: "s", isControl: true },
    ];
    expect(fieldsOf(sampleDefinition({ variants, rangeStart: 0.6, rangeEnd: 0.4 }))).toEqual([
      "rangeEnd",
      "variants[1].isControl",
    ]);
  });

  it("rejects an unknown metric and a primary metric repeated as guardrail", () => {
    expect(fieldsOf(sampleDefinition({ primaryMetric: "revenue" as never }))).toEqual([
      "primaryMetric",
    ]);
    expect(fieldsOf(sampleDefinition({ guardrailMetrics: ["click_through"] }))).toEqual([
      "guardrailMetrics",
    ]);
  });

  it("accepts a draft without variants or metric but not a running one", () => {
    expect(parseExperimentDefinition({ key: "empty-draft" }).variants).toEqual([]);
    expect(fieldsOf({ key: "empty-running", status: "running" })).toEqual([
      "variants",
      "primaryMetric",
    ]);
  });

  it("requires a concluded experiment to record a decision naming one of its variants", () => {
    expect(fieldsOf(sampleDefinition({ status: "concluded" }))).toEqual(["decision"]);
    expect(fieldsOf(sampleDefinition({ status: "concluded", decision: "nope" }))).toEqual([
      "decision",
    ]);
    expect(
      parseExperimentDefinition(sampleDefinition({ status: "concluded", decision: "ranker-v2" }))
        .decision,
    ).toBe("ranker-v2");
  });

  it("rejects a traffic allocation given as a percentage and a non-slug key", () => {
    expect(fieldsOf(sampleDefinition({ trafficAllocation: 50, key: "Home Ranker" }))).toEqual([
      "key",
      "trafficAllocation",
    ]);
  });

  it("accepts a database row where absent optional columns are null", () => {
    const row = {
      ...sampleDefinition(),
      seed: "s-1",
      decision: null,
      decisionReason: null,
      variants: [
        {
          name: "control",
          weight: 50,
          isControl: true,
          modelVersionId: null,
          strategy: "popularity",
        },
        { name: "ranker-v2", weight: 50, isControl: false, modelVersionId: 7, strategy: null },
      ],
    };
    const def = parseExperimentDefinition(row);
    expect(def.decision).toBeUndefined();
    expect(def.variants[0]).toEqual({
      name: "control",
      weight: 50,
      isControl: true,
      modelVersionId: undefined,
      strategy: "popularity",
    });
    expect(
      fieldsOf({ ...row, variants: [{ ...row.variants[0], strategy: null }, row.variants[1]] }),
    ).toEqual(["variants[0].modelVersionId"]);
  });

  it("exports the zod schema for procedure inputs", () => {
    expect(experimentDefinitionSchema.safeParse(sampleDefinition()).success).toBe(true);
    expect(experimentDefinitionSchema.safeParse({ key: 1 }).success).toBe(false);
  });
});
