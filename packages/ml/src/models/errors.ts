import { AppError, BadInput } from "@reco/contracts";

/**
 * A factor or score became NaN/Infinity during training: the run must be marked failed.
 * Reason `training_diverged`.
 */
export class TrainingDiverged extends AppError {
  declare readonly reason: "training_diverged";
  constructor(
    readonly model: string,
    readonly epoch: number,
    detail: string,
  ) {
    super("INTERNAL", `${model} training diverged at epoch ${epoch}: ${detail}`, undefined, {
      reason: "training_diverged",
    });
  }
}

/** Reason `unknown_model_kind`. */
export class UnknownModelKind extends BadInput {
  declare readonly reason: "unknown_model_kind";
  constructor(kind: string, known: readonly string[]) {
    super(
      `unknown model kind ${JSON.stringify(kind)}; known kinds: ${known.join(", ")}`,
      undefined,
      { reason: "unknown_model_kind" },
    );
  }
}

/** Reason `invalid_hyper_parameter`. */
export class InvalidHyperParameter extends BadInput {
  declare readonly reason: "invalid_hyper_parameter";
  constructor(model: string, name: string, problem: string) {
    super(`${model}: hyper-parameter ${JSON.stringify(name)} ${problem}`, undefined, {
      reason: "invalid_hyper_parameter",
    });
  }
}
