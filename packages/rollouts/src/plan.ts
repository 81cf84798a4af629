import { z } from "zod";
import { RolloutValidationError } from "./errors.ts";

/** A traffic stage: the candidate's share, and what must hold before it may pass. */
export interface StagePlan {
  /** Percent of users (0, 100] sent to the candidate during this stage. */
  trafficPct: number;
  /** The stage runs at least this long (its clock stops while paused). */
  minDurationS: number;
  /** Users seen so far in each arm before the stage may pass (the candidate's alone at 100 %). */
  minUsersPerArm: number;
}

/** Margins and limits of the gates; every figure is candidate against stable. */
export interface GateConfig {
  /** Error rate (errors + model failures per impression) may exceed stable's by at most this (absolute). */
  errorRateMargin: number;
  /** p99 latency may exceed stable's by at most this percent plus `latencySlackMs`. */
  latencyP99MarginPct: number;
  latencySlackMs: number;
  /** Timed responses each arm needs in the window before the candidate's p99 is judged. */
  latencyMinImpressions: number;
  /** Non-inferiority margin of click-through, relative to stable's (percent). */
  ctrMarginPct: number;
  /**
   * Exposed users each arm needs before click-through is judged at all (pass or fail): the
   * delta-method variance of a handful of users is no estimate (3 users without a click have a
   * variance of 0, which would read as certainty).
   */
  ctrMinUsers: number;
  /** Error level of the always-valid intervals (two-sided; each side spends half). */
  alpha: number;
  /**
   * Stages below this share need not prove click-through non-inferiority (an inconclusive CTR does
   * not hold them; a failed one still rolls back): at 5 % the candidate rarely has the users to
   * prove a 5 % margin, and proof matters before it serves the majority.
   */
  ctrProofFromPct: number;
  /** Users (both arms) at which the sequential intervals are tightest. */
  tuningUsers: number;
  /** Inconclusive evaluations allowed once a stage's minimums are met; one more pauses the rollout. */
  maxInconclusive: number;
}

export interface RolloutPlan {
  stages: StagePlan[];
  gates: GateConfig;
  evaluationIntervalMs: number;
}

/**
 * Defaults sized for a service with a few thousand active users a minute: 10 minutes and 1,000
 * users per arm at 5 %, 20 minutes and 5,000 at 50 %, 10 minutes at 100 %. The simulation in
 * gates.simulation.test.ts measures what they give (false rollbacks, power against a 10 % drop).
 */
export const DEFAULT_STAGES: readonly StagePlan[] = [
  { trafficPct: 5, minDurationS: 600, minUsersPerArm: 1_000 },
  { trafficPct: 50, minDurationS: 1_200, minUsersPerArm: 5_000 },
  { trafficPct: 100, minDurationS: 600, minUsersPerArm: 5_000 },
];

export const DEFAULT_GATES: GateConfig = {
  errorRateMargin: 0.01,
  latencyP99MarginPct: 25,
  latencySlackMs: 5,
  latencyMinImpressions: 500,
  ctrMarginPct: 5,
  ctrMinUsers: 30,
  ctrProofFromPct: 50,
  alpha: 0.05,
  tuningUsers: 10_000,
  maxInconclusive: 30,
};

export const DEFAULT_EVALUATION_INTERVAL_MS = 60_000;

const stageSchema = z.object({
  trafficPct: z
    .number({ error: "must be a number" })
    .gt(0, "must be above 0")
    .lte(100, "must be at most 100"),
  minDurationS: z
    .number({ error: "must be a number" })
    .int("must be a whole number of seconds")
    .nonnegative("must not be negative")
    .default(600),
  minUsersPerArm: z
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .nonnegative("must not be negative")
    .default(1_000),
});

const gatesSchema = z.object({
  errorRateMargin: z.number().min(0).max(1).default(DEFAULT_GATES.errorRateMargin),
  latencyP99MarginPct: z.number().min(0).max(1_000).default(DEFAULT_GATES.latencyP99MarginPct),
  latencySlackMs: z.number().min(0).max(60_000).default(DEFAULT_GATES.latencySlackMs),
  latencyMinImpressions: z.number().int().min(1).default(DEFAULT_GATES.latencyMinImpressions),
  ctrMarginPct: z.number().min(0).max(100).default(DEFAULT_GATES.ctrMarginPct),
  ctrMinUsers: z.number().int().min(2).max(1_000_000).default(DEFAULT_GATES.ctrMinUsers),
  ctrProofFromPct: z.number().gt(0).max(100).default(DEFAULT_GATES.ctrProofFromPct),
  alpha: z.number().gt(0).lt(0.5).default(DEFAULT_GATES.alpha),
  tuningUsers: z.number().int().min(2).default(DEFAULT_GATES.tuningUsers),
  maxInconclusive: z.number().int().min(0).max(100_000).default(DEFAULT_GATES.maxInconclusive),
});

const versionRefSchema = z.object({
  name: z.string().trim().min(1, "is required").max(200),
  version: z.string().trim().min(1, "is required").max(200),
});

/** A webhook target: http(s) only, no credentials in the URL, at most 2,048 characters. */
export const webhookUrlSchema = z
  .string()
  .max(2_048, "must be at most 2048 characters")
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password
      );
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL without credentials");

/** What `start` accepts (tRPC, CLI); everything but the candidate has a default. */
export const rolloutInputSchema = z.object({
  candidate: versionRefSchema,
  /** Defaults to the version serving now (the newest stable). */
  baseline: versionRefSchema.optional(),
  stages: z.array(stageSchema).min(1, "needs at least one stage").max(20).optional(),
  gates: gatesSchema.partial().optional(),
  evaluationIntervalS: z
    .number()
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1 second")
    .max(86_400)
    .optional(),
  webhookUrl: webhookUrlSchema.optional(),
  reason: z.string().max(2_000).optional(),
});

export type RolloutInput = z.input<typeof rolloutInputSchema>;
export type ParsedRolloutInput = z.output<typeof rolloutInputSchema>;

/**
 * Checks a rollout request and fills its defaults. Every problem is reported with the field it
 * belongs to (stages[1].trafficPct), not only the first; nothing is stored by this function.
 */
export function parseRolloutInput(input: unknown): ParsedRolloutInput & { plan: RolloutPlan } {
  const parsed = rolloutInputSchema.safeParse(input);
  if (!parsed.success) throw RolloutValidationError.fromZod(parsed.error);
  const value = parsed.data;
  const stages = (value.stages ?? DEFAULT_STAGES).map((stage) => ({ ...stage }));
  const issues: { field: string; message: string }[] = [];
  stages.forEach((stage, i) => {
    const previous = stages[i - 1];
    if (previous && stage.trafficPct <= previous.trafficPct)
      issues.push({
        field: `stages[${i}].trafficPct`,
        message: `must be above the previous stage's ${previous.trafficPct}`,
      });
  });
  const last = stages[stages.length - 1]!;
  if (last.trafficPct !== 100)
    issues.push({
      field: `stages[${stages.length - 1}].trafficPct`,
      message: "the last stage must send 100 % of users to the candidate",
    });
  if (
    value.baseline &&
    value.baseline.name === value.candidate.name &&
    value.baseline.version === value.candidate.version
  )
    issues.push({ field: "candidate", message: "the candidate must differ from the baseline" });
  if (issues.length) throw new RolloutValidationError(issues);
  const gates = gatesSchema.parse(value.gates ?? {});
  return {
    ...value,
    plan: {
      stages,
      gates,
      evaluationIntervalMs:
        (value.evaluationIntervalS ?? DEFAULT_EVALUATION_INTERVAL_MS / 1000) * 1000,
    },
  };
}
