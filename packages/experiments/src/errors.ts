import { AppError, BadInput } from "@reco/contracts";
import type { z } from "zod";

export interface FieldIssue {
  /** e.g. "variants[2].weight" */
  field: string;
  message: string;
}

/** Renders a zod path the way a form or API client names the field: variants[2].weight. */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, i) =>
      typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

/** Bad experiment input (400); `issues` names every offending field. */
export class ExperimentValidationError extends BadInput {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "), { issues });
    this.issues = issues;
  }

  static fromZod(error: z.ZodError): ExperimentValidationError {
    return new ExperimentValidationError(
      error.issues.map((i) => ({ field: fieldName(i.path), message: i.message })),
    );
  }
}

/** A status change the lifecycle does not allow (409), e.g. concluding a draft. */
export class ExperimentTransitionError extends AppError {
  constructor(from: string, to: string, reason: string) {
    super("CONFLICT", `cannot move experiment from ${from} to ${to}: ${reason}`, {
      issues: [{ field: "status", message: reason }],
    });
  }
}
