export type * from "./params.ts";
export * from "./data/index.ts";
export { exportOnnx, type ExportedGraph } from "./onnx/graphs.ts";
export {
  createOnnxScorer,
  type RecommendRequest,
  type Recommendation,
  type Scorer,
} from "./onnx/session.ts";
export { createScorer, type ArtifactScorer, type ScorerOptions } from "./onnx/scorer.ts";
export { ArtifactCorrupt, ModelVersionMissing, VersionExists } from "./registry/errors.ts";
export type { ArtifactMetadata } from "./registry/metadata.ts";
export {
  listVersions,
  loadArtifact,
  openVersion,
  type LoadedArtifact,
  type VersionListing,
} from "./registry/artifact.ts";
export { versionDir } from "./registry/layout.ts";
export {
  fetchVersion,
  isStoredVersion,
  nextStoredVersion,
  parseStoredVersion,
  uploadVersion,
} from "./registry/remote.ts";
export { publishVersion, type PublishRequest } from "./registry/store.ts";
export {
  finishTrainingRun,
  recordModelVersion,
  startTrainingRun,
  type RegistryDb,
} from "./registry/db.ts";
export * from "./models/index.ts";
export * from "./eval/index.ts";
export * from "./eval/compare.ts";
export * from "./tune/index.ts";
export {
  runRetrainJob,
  type RetrainJobOptions,
  type RetrainJobResult,
  type RetrainPhase,
} from "./retrain/job.ts";
export { runRetrainJobInThread } from "./retrain/thread.ts";
