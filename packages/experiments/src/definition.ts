import { z } from "zod";
import { ExperimentValidationError, type FieldIssue } from "./errors.ts";
import { metricKeySchema } from "./metric-key.ts";

export const EXPERIMENT_STATUSES = ["draft", "running", "stopped", "concluded"] as const;
export const experimentStatusSchema = z.enum(EXPERIMENT_STATUSES);
export type ExperimentStatus = z.infer<typeof experimentStatusSchema>;

/** Namespace whose experiments are independent layers rather than mutually exclusive. */
export const SHARED_NAMESPACE = "default";

/** Database rows carry null for absent optional columns; the definition uses undefined. */
function orUndefined<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined;
}

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1–64 lower-case letters, digits, '-' or '_'");
/** What an experiment key may be (routes check it before any lookup). */
export const experimentKeySchema = slug;
/** Tolerance for weights entered as decimals such as 33.33 + 33.33 + 33.34. */
const WEIGHT_SUM_TOLERANCE = 1e-6;

export const variantSchema = z
  .object({
    name: slug,
    /** share of the experiment's users, in percent; all variants sum to 100 */
    weight: z.number().gt(0, "must be above 0 %").max(100, "must be at most 100 %"),
    isControl: z.boolean().default(false),
    /** what the variant serves: a registered model version … */
    modelVersionId: z.number().int().positive().nullish().transform(orUndefined),
    /** … or a named strategy such as "popularity" */
    strategy: z.string().min(1).max(64).nullish().transform(orUndefined),
  })
  .superRefine((v, ctx) => {
    if ((v.modelVersionId === undefined) === (v.strategy === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["modelVersionId"],
        message: "a variant serves exactly one of modelVersionId or strategy",
      });
    }
  });
export type Variant = z.output<typeof variantSchema>;

const fraction = z.number().min(0).max(1);

const baseSchema = z.object({
  key: slug,
  hypothesis: z.string().max(2000).default(""),
  owner: z.string().max(200).default(""),
  status: experimentStatusSchema.default("draft"),
  /** hashing seed; defaults to the key. Changing it reshuffles every user. */
  seed: z.string().min(1).max(128).nullish().transform(orUndefined),
  /**
   * Experiments in one named namespace are mutually exclusive (their ranges may not overlap).
   * SHARED_NAMESPACE ("default") is the exception: experiments there overlap independently.
   */
  namespace: slug.default(SHARED_NAMESPACE),
  /** slice [rangeStart, rangeEnd) of the namespace's hash space this experiment owns */
  rangeStart: fraction.default(0),
  rangeEnd: fraction.default(1),
  /** fraction (0–1] of the users in the range who enter; the rest get the control experience */
  trafficAllocation: z
    .number()
    .gt(0, "must be above 0")
    .max(1, "must be at most 1 (a fraction)")
    .default(1),
  variants: z.array(variantSchema).max(20).default([]),
  primaryMetric: metricKeySchema.nullish().transform(orUndefined),
  guardrailMetrics: z.array(metricKeySchema).max(10).default([]),
  /** users per variant before a decision is allowed */
  minSampleSize: z.number().int().nonnegative().default(0),
  attributionWindowS: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600, "must be at most 30 days")
    .default(3600),
  /** name of the variant shipped, recorded when concluding */
  decision: z.string().nullish().transform(orUndefined),
  decisionReason: z.string().max(2000).nullish().transform(orUndefined),
});

type Ctx = z.RefinementCtx;

function checkVariants(variants: Variant[], ctx: Ctx): void {
  const seen = new Map<string, number>();
  variants.forEach((v, i) => {
    const first = seen.get(v.name);
    if (first !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["variants", i, "name"],
        message: `duplicate variant name "${v.name}" (also variants[${first}].name)`,
      });
    else seen.set(v.name, i);
  });
  if (variants.length > 0) {
    const sum = variants.reduce((a, v) => a + v.weight, 0);
    if (Math.abs(sum - 100) > WEIGHT_SUM_TOLERANCE) {
      ctx.addIssue({
        code: "custom",
        path: ["variants"],
        message: `weights must sum to 100 % but sum to ${+sum.toFixed(6)} % (${variants.map((v) => v.weight).join(" + ")})`,
      });
    }
  }
  const controls = variants.flatMap((v, i) => (v.isControl ? [i] : []));
  controls.slice(1).forEach((i) =>
    ctx.addIssue({
      code: "custom",
      path: ["variants", i, "isControl"],
      message: `only one control allowed (variants[${controls[0]}] is already the control)`,
    }),
  );
}

/** What every non-draft experiment must have; also the precondition of starting. */
export function startIssues(def: { variants: Variant[]; primaryMetric?: string }): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (def.variants.length < 2)
    issues.push({
      field: "variants",
      message: `needs at least 2 variants to run (has ${def.variants.length})`,
    });
  if (def.primaryMetric === undefined)
    issues.push({ field: "primaryMetric", message: "a primary metric is required to run" });
  return issues;
}

/**
 * Experiment definition as stored and served. Parsing normalises it: the seed defaults to the key
 * and, when no variant is flagged, the first one is the control.
 */
export const experimentDefinitionSchema = baseSchema
  .superRefine((def, ctx) => {
    if (def.rangeStart >= def.rangeEnd)
      ctx.addIssue({
        code: "custom",
        path: ["rangeEnd"],
        message: `must be greater than rangeStart (${def.rangeStart})`,
      });
    checkVariants(def.variants, ctx);
    if (def.primaryMetric !== undefined && def.guardrailMetrics.includes(def.primaryMetric)) {
      ctx.addIssue({
        code: "custom",
        path: ["guardrailMetrics"],
        message: `"${def.primaryMetric}" is already the primary metric`,
      });
    }
    if (new Set(def.guardrailMetrics).size !== def.guardrailMetrics.length) {
      ctx.addIssue({ code: "custom", path: ["guardrailMetrics"], message: "lists a metric twice" });
    }
    if (def.status !== "draft")
      startIssues(def).forEach((i) =>
        ctx.addIssue({ code: "custom", path: [i.field], message: i.message }),
      );
    if (def.status === "concluded" && def.decision === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["decision"],
        message: "a concluded experiment records its decision (the variant shipped)",
      });
    if (def.decision !== undefined && !def.variants.some((v) => v.name === def.decision)) {
      ctx.addIssue({
        code: "custom",
        path: ["decision"],
        message: `"${def.decision}" is not a variant of this experiment`,
      });
    }
  })
  .transform((def) => {
    const hasControl = def.variants.some((v) => v.isControl);
    return {
      ...def,
      seed: def.seed ?? def.key,
      variants: def.variants.map((v, i) => ({
        ...v,
        isControl: hasControl ? v.isControl : i === 0,
      })),
    };
  });

export type ExperimentDefinitionInput = z.input<typeof experimentDefinitionSchema>;
export type ExperimentDefinition = z.output<typeof experimentDefinitionSchema>;

/** Parses untrusted input; throws ExperimentValidationError naming each bad field. */
export function parseExperimentDefinition(input: unknown): ExperimentDefinition {
  const parsed = experimentDefinitionSchema.safeParse(input);
  if (!parsed.success) throw ExperimentValidationError.fromZod(parsed.error);
  return parsed.data;
}

export function controlVariant(def: ExperimentDefinition): Variant {
  const control = def.variants.find((v) => v.isControl);
  if (!control)
    throw new ExperimentValidationError([
      { field: "variants", message: "experiment has no variants" },
    ]);
  return control;
}
