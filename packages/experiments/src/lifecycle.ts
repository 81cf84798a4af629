import { z } from "zod";
import {
  SHARED_NAMESPACE,
  parseExperimentDefinition,
  startIssues,
  type ExperimentDefinition,
  type ExperimentStatus,
} from "./definition.ts";
import {
  ExperimentTransitionError,
  ExperimentValidationError,
  fieldName,
  type FieldIssue,
} from "./errors.ts";

/** draft → running → stopped → concluded; nothing goes back, so results stay attributable. */
const NEXT_STATUS: Record<ExperimentStatus, ExperimentStatus | undefined> = {
  draft: "running",
  running: "stopped",
  stopped: "concluded",
  concluded: undefined,
};

/** Experiments that hold their namespace range: those not yet stopped. */
function holdsRange(def: ExperimentDefinition): boolean {
  return def.status === "draft" || def.status === "running";
}

/**
 * Ranges of other live experiments in the same named namespace that intersect this one's. Ranges
 * are half-open, so [0, 0.5) and [0.5, 1) do not overlap. The shared namespace never conflicts:
 * its experiments hash with their own seeds and overlap independently, like GrowthBook's
 * experiments without a namespace.
 */
export function namespaceOverlaps(
  def: ExperimentDefinition,
  others: ExperimentDefinition[],
): FieldIssue[] {
  return others
    .filter(
      (o) =>
        def.namespace !== SHARED_NAMESPACE &&
        o.key !== def.key &&
        o.namespace === def.namespace &&
        holdsRange(o),
    )
    .filter((o) => o.rangeStart < def.rangeEnd && def.rangeStart < o.rangeEnd)
    .map((o) => ({
      field: "rangeStart",
      message: `range [${def.rangeStart}, ${def.rangeEnd}) of namespace "${def.namespace}" overlaps experiment "${o.key}" [${o.rangeStart}, ${o.rangeEnd})`,
    }));
}

/** Parses a new or edited definition and checks it against the other experiments' ranges. */
export function validateExperiment(
  input: unknown,
  others: ExperimentDefinition[] = [],
): ExperimentDefinition {
  const def = parseExperimentDefinition(input);
  const overlaps = holdsRange(def) ? namespaceOverlaps(def, others) : [];
  if (overlaps.length > 0) throw new ExperimentValidationError(overlaps);
  return def;
}

/** Fields that may change while running: they do not affect who sees what or how it is judged. */
const EDITABLE_WHILE_RUNNING = new Set([
  "hypothesis",
  "owner",
  "guardrailMetrics",
  "minSampleSize",
]);

function differingFields(
  before: unknown,
  after: unknown,
  path: (string | number)[] = [],
): string[] {
  if (Object.is(before, after)) return [];
  const isObject = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null;
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => differingFields(b, after[i], [...path, i]));
  }
  if (isObject(before) && isObject(after) && !Array.isArray(before) && !Array.isArray(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => differingFields(before[k], after[k], [...path, k]));
  }
  return [fieldName(path)];
}

/**
 * Applies an edit. Drafts accept any valid change; a running experiment only accepts the fields in
 * EDITABLE_WHILE_RUNNING (changing weights, variants, seed, range or metric mid-flight would
 * reshuffle users or move the goalposts); stopped and concluded experiments are frozen. The status
 * itself changes only through transitionExperiment.
 */
export function editExperiment(
  current: ExperimentDefinition,
  patch: Record<string, unknown>,
  others: ExperimentDefinition[] = [],
): ExperimentDefinition {
  if ("status" in patch && patch.status !== current.status) {
    throw new ExperimentValidationError([
      { field: "status", message: "change the status with start / stop / conclude, not an edit" },
    ]);
  }
  const next = validateExperiment({ ...current, ...patch }, others);
  if (next.key !== current.key)
    throw new ExperimentValidationError([
      { field: "key", message: "the key of an experiment cannot change" },
    ]);
  if (current.status === "draft") return next;
  const changed = differingFields(current, next).filter(
    (f) => current.status !== "running" || !EDITABLE_WHILE_RUNNING.has(f.split(/[.[]/)[0]!),
  );
  if (changed.length > 0) {
    throw new ExperimentValidationError(
      changed.map((field) => ({
        field,
        message: `cannot change while the experiment is ${current.status}`,
      })),
    );
  }
  return next;
}

export const transitionSchema = z.object({
  to: z.enum(["running", "stopped", "concluded"]),
  decision: z.string().optional(),
  decisionReason: z.string().max(2000).optional(),
});
export type Transition = z.infer<typeof transitionSchema>;

/**
 * Moves an experiment one step along its lifecycle. Starting re-checks what running needs
 * (variants, a primary metric, a free namespace range); concluding records the decision.
 */
export function transitionExperiment(
  current: ExperimentDefinition,
  transition: Transition,
  others: ExperimentDefinition[] = [],
): ExperimentDefinition {
  const expected = NEXT_STATUS[current.status];
  if (transition.to !== expected) {
    throw new ExperimentTransitionError(
      current.status,
      transition.to,
      expected
        ? `a ${current.status} experiment can only become ${expected}`
        : "a concluded experiment is final",
    );
  }
  if (transition.to === "running") {
    const issues = startIssues(current);
    if (issues.length > 0) throw new ExperimentValidationError(issues);
  }
  if (transition.to === "concluded" && transition.decision === undefined) {
    throw new ExperimentValidationError([
      {
        field: "decision",
        message: "concluding records a decision: the name of the variant shipped",
      },
    ]);
  }
  return validateExperiment(
    {
      ...current,
      status: transition.to,
      decision: transition.decision ?? current.decision,
      decisionReason: transition.decisionReason ?? current.decisionReason,
    },
    others,
  );
}
