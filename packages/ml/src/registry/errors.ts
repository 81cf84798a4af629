import { AppError } from "@reco/contracts";

/** A stored artifact failed its checksum or structure check; it must not be served. */
export class ArtifactCorrupt extends AppError {
  constructor(
    readonly artifactDir: string,
    reason: string,
  ) {
    super("INTERNAL", `artifact ${artifactDir} is corrupt: ${reason}`, { artifactDir, reason });
  }
}

/** Versions are immutable: publishing onto an existing one is refused. */
export class VersionExists extends AppError {
  constructor(name: string, version: string) {
    super("CONFLICT", `model ${name} version ${version} already exists; versions are immutable`);
  }
}

export class ModelVersionMissing extends AppError {
  constructor(name: string, version: string) {
    super("NOT_FOUND", `model ${name} version ${version} is not in the registry`);
  }
}
