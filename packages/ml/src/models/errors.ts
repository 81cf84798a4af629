import { AppError, BadInput } from "@reco/contracts";

/** A factor or score became NaN/Infinity during training: the run must be marked failed. */
export class TrainingDiverged extends AppError {
  constructor(
    readonly model: string,
    readonly epoch: number,
    detail: string,
  ) {
    super("INTERNAL", `${model} training diverged at epoch ${epoch}: ${detail}`);
  }
}

export class UnknownModelKind extends BadInput {
  constructor(kind: string, known: readonly string[]) {
    super(`unknown model kind ${JSON.stringify(kind)}; known kinds: ${known.join(", ")}`);
  }
}

export class InvalidHyperParameter extends BadInput {
  constructor(model: string, name: string, problem: string) {
    super(`${model}: hyper-parameter ${JSON.stringify(name)} ${problem}`);
  }
}
