/**
 * createScorer(artifactDir): a verified registry version served through onnxruntime-node.
 * The artifact is checked against its sha256 checksums before a session is created.
 */
import type * as ort from "onnxruntime-node";
import type { FactorParams } from "../params.ts";
import { foldInUser } from "../models/ials/fold-in.ts";
import { loadArtifact } from "../registry/artifact.ts";
import { readFloatInitializer } from "./graph-builder.ts";
import { type Scorer, createOnnxScorer } from "./session.ts";

export interface ScorerOptions {
  /** factors models: solves a new user's vector from item indices and values (default: iALS fold-in) */
  foldIn?: (params: FactorParams, items: Int32Array, values: Float32Array) => Float32Array;
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

export interface ArtifactScorer extends Scorer {
  /** external id ↔ dense index maps of the artifact */
  readonly itemIds: string[];
  readonly userIds: string[];
  readonly name: string;
  readonly version: string;
  /** ISO-8601 of the version's training (its metadata's createdAt) */
  readonly createdAt: string;
}

export async function createScorer(
  artifactDir: string,
  options: ScorerOptions = {},
): Promise<ArtifactScorer> {
  const artifact = await loadArtifact(artifactDir);
  const m = artifact.metadata;
  let foldIn: ((items: number[], weights: number[]) => Float32Array) | undefined;
  if (m.kind === "factors" && m.foldIn && m.shape.factors) {
    // Fold-in needs the item factors: read them back from the graph rather than storing them twice.
    const itemFactors = readFloatInitializer(artifact.modelBytes, "item_factors").data;
    const params: FactorParams = {
      kind: "factors",
      factors: m.shape.factors,
      nUsers: 0,
      nItems: m.shape.nItems,
      userFactors: new Float32Array(0),
      itemFactors,
      regularization: m.foldIn.regularization,
      alpha: m.foldIn.alpha,
    };
    const solve = options.foldIn ?? foldInUser;
    foldIn = (items, weights) => solve(params, Int32Array.from(items), Float32Array.from(weights));
  }
  const scorer = await createOnnxScorer({
    kind: m.kind,
    modelBytes: artifact.modelBytes,
    nItems: m.shape.nItems,
    nUsers: m.shape.nUsers,
    factors: m.shape.factors,
    contexts: m.shape.contexts,
    trainHistory: artifact.trainHistory,
    foldIn,
    sessionOptions: options.sessionOptions,
  });
  return {
    ...scorer,
    recommend: scorer.recommend,
    release: scorer.release,
    itemIds: artifact.idMaps.items,
    userIds: artifact.idMaps.users,
    createdAt: m.createdAt,
    name: m.name,
    version: m.version,
  };
}
