import { AppError, BadInput } from "@reco/contracts";
import { fieldName, type FieldIssue } from "@reco/experiments";
import type { z } from "zod";

/** Bad rollout input (400); `issues` names every offending field. */
export class RolloutValidationError extends BadInput {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "), { issues });
    this.issues = issues;
  }

  static fromZod(error: z.ZodError): RolloutValidationError {
    return new RolloutValidationError(
      error.issues.map((i) => ({ field: fieldName(i.path), message: i.message })),
    );
  }
}

/** An action the rollout's state does not allow, or one based on a stale version (409). */
export class RolloutConflict extends AppError {
  constructor(message: string, details?: unknown) {
    super("CONFLICT", message, details);
  }
}
