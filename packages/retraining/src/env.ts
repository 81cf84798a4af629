import { pickStorageEnv, type StorageEnv } from "@reco/storage/env";
import { z } from "zod";
import { parseRetrainInterval } from "./interval.ts";

/** `factors=16,epochs=2` → { factors: "16", epochs: "2" }; the kind checks names and ranges. */
function parseParams(text: string, ctx: z.RefinementCtx): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value, ...rest] = part.split("=").map((p) => p.trim());
    if (!name || !value || rest.length) {
      ctx.addIssue({
        code: "custom",
        message: `"${part}" is not NAME=VALUE (e.g. epochs=5,factors=32)`,
      });
      return z.NEVER;
    }
    params[name] = value;
  }
  return params;
}

/**
 * The retraining variables, for an app's env schema (spread into it): the schedule, what is
 * trained, and the automatic canary. Parsed here so the api and the stream worker agree.
 */
export const retrainingEnvFields = {
  /** `6h` (default), `30m`, `90s`, `1d`, a bare number of seconds; `0` or `off`: manual runs only. */
  RETRAIN_INTERVAL: z
    .string()
    .default("6h")
    .transform((text, ctx) => {
      try {
        return parseRetrainInterval(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** The kind to retrain (default: the stable version's kind, else ials). */
  RETRAIN_MODEL: z.string().min(1).optional(),
  /** Registry name of the retrained versions (default: the stable version's name, else the kind). */
  RETRAIN_MODEL_NAME: z.string().min(1).max(64).optional(),
  /** Parameters held fixed, `NAME=VALUE,…` (default none: the kind's tuned defaults). */
  RETRAIN_PARAMS: z.string().default("").transform(parseParams),
  /** `1`: start a canary rollout when the candidate's RETRAIN_METRIC is at least the stable's. */
  RETRAIN_AUTO_ROLLOUT: z
    .enum(["0", "1"])
    .default("0")
    .transform((value) => value === "1"),
  /** The offline metric compared for RETRAIN_AUTO_ROLLOUT (default ndcg@10). */
  RETRAIN_METRIC: z
    .string()
    .regex(/^[a-z_]+@\d+$/, "must look like ndcg@10")
    .default("ndcg@10"),
};

export interface RetrainingEnv {
  RETRAIN_INTERVAL: number | null;
  RETRAIN_MODEL?: string;
  RETRAIN_MODEL_NAME?: string;
  RETRAIN_PARAMS: Record<string, string>;
  RETRAIN_AUTO_ROLLOUT: boolean;
  RETRAIN_METRIC: string;
}

/**
 * The scheduler's configuration from the parsed variables and the data directory's layout; with
 * S3_ENDPOINT set, snapshots and versions live in the bucket (the directories are not used then).
 */
export function retrainingConfigFromEnv(
  env: RetrainingEnv & StorageEnv,
  dirs: { snapshotsDir: string; registryDir: string },
) {
  return {
    ...dirs,
    ...(env.S3_ENDPOINT ? { objectStorage: pickStorageEnv(env) } : {}),
    intervalMs: env.RETRAIN_INTERVAL,
    ...(env.RETRAIN_MODEL ? { kind: env.RETRAIN_MODEL } : {}),
    ...(env.RETRAIN_MODEL_NAME ? { modelName: env.RETRAIN_MODEL_NAME } : {}),
    params: env.RETRAIN_PARAMS,
    autoRollout: env.RETRAIN_AUTO_ROLLOUT,
    metric: env.RETRAIN_METRIC,
  };
}
