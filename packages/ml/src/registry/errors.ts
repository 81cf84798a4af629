import { AppError } from "@reco/contracts";

/**
 * A stored artifact failed its checksum or structure check; it must not be served.
 * Reason `model_corrupt` (serving's fallback reason for it).
 */
export class ArtifactCorrupt extends AppError {
  declare readonly reason: "model_corrupt";
  constructor(
    readonly artifactDir: string,
    problem: string,
  ) {
    super(
      "INTERNAL",
      `artifact ${artifactDir} is corrupt: ${problem}`,
      { artifactDir, problem },
      { reason: "model_corrupt" },
    );
  }
}

/** Versions are immutable: publishing onto an existing one is refused. Reason `version_exists`. */
export class VersionExists extends AppError {
  declare readonly reason: "version_exists";
  constructor(name: string, version: string) {
    super(
      "CONFLICT",
      `model ${name} version ${version} already exists; versions are immutable`,
      undefined,
      { reason: "version_exists" },
    );
  }
}

/** The version is not in the registry. Reason `model_missing` (serving's fallback reason for it). */
export class ModelVersionMissing extends AppError {
  declare readonly reason: "model_missing";
  constructor(name: string, version: string, options: { cause?: unknown } = {}) {
    super("NOT_FOUND", `model ${name} version ${version} is not in the registry`, undefined, {
      reason: "model_missing",
      cause: options.cause,
    });
  }
}
