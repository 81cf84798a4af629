/** metadata.json of a registry version: what the artifact is, how it was made, how it scored. */
import { z } from "zod";

const fileEntry = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});
const tensorSpec = z.object({
  name: z.string(),
  type: z.enum(["float", "int32", "int64"]),
  shape: z.array(z.union([z.number().int(), z.string()])),
});

export const artifactMetadataSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string(),
  version: z.string(),
  kind: z.enum(["factors", "item-item", "popularity"]),
  /** the training algorithm: ials, item-knn, rp3beta, popularity, trending … */
  algorithm: z.string(),
  createdAt: z.string(),
  onnx: z.object({
    file: z.literal("model.onnx"),
    irVersion: z.number().int(),
    opset: z.number().int(),
    inputs: z.array(tensorSpec),
    outputs: z.array(tensorSpec),
  }),
  shape: z.object({
    nUsers: z.number().int().nonnegative(),
    nItems: z.number().int().positive(),
    factors: z.number().int().positive().optional(),
    /** popularity: context key of each table row, "" (global) first */
    contexts: z.array(z.string()).optional(),
  }),
  /** factors: what fold-in needs to solve a new user's vector like training did */
  foldIn: z.object({ regularization: z.number(), alpha: z.number() }).optional(),
  hyperparameters: z.record(z.string(), z.unknown()),
  data: z.object({
    source: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    nUsers: z.number().int().nonnegative(),
    nItems: z.number().int().nonnegative(),
    nInteractions: z.number().int().nonnegative(),
  }),
  /**
   * What the published factors were fitted on: `all` = every interaction of `data` (refit after
   * the held-out evaluation, which fitted a copy on the split's train side), `train` = the train
   * side only (`--fit-on train`, or an explicit --train/--test pair). Absent in older versions.
   */
  fittedOn: z.enum(["all", "train"]).optional(),
  /** flat offline metrics, e.g. {"ndcg@10": 0.21, "recall@20": 0.3} */
  metrics: z.record(z.string(), z.number()),
  /** how the metrics were obtained (split, seed, K, users evaluated) */
  evaluation: z.record(z.string(), z.unknown()).optional(),
  /** ONNX vs TypeScript reference on sample requests at publish time */
  exportCheck: z.object({ requests: z.number().int(), maxAbsDiff: z.number() }),
  /** relative path → checksum, for every file of the version except metadata.json and the card */
  files: z.record(z.string(), fileEntry),
  training: z
    .object({ seconds: z.number().optional(), runId: z.number().int().optional() })
    .optional(),
});

export type ArtifactMetadata = z.infer<typeof artifactMetadataSchema>;
