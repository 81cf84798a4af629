/**
 * Which adapter a process uses, from its parsed environment: S3 when S3_ENDPOINT and S3_BUCKET are
 * set (credentials then required), else the local directory (embedded mode).
 */
import { z } from "zod";
import { LocalDirectoryStorage } from "./local.ts";
import type { ObjectStorage } from "./port.ts";
import { S3Storage } from "./s3.ts";

/** The variables of object storage, for an app's zod env schema (spread into it). */
export const storageEnvFields = {
  S3_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be an http(s):// URL")
    .optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
    .optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  /** keys are stored under it, so deployments can share a bucket */
  S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_=+@-][A-Za-z0-9._=+@-]*\/)*$/, "segments ending in /")
    .default(""),
};

export interface StorageEnv {
  S3_ENDPOINT?: string;
  S3_BUCKET?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_REGION?: string;
  S3_PREFIX?: string;
}

/** Names the missing variable when S3 is half-configured; undefined when the env is consistent. */
export function storageEnvProblem(env: StorageEnv): string | undefined {
  const s3 = [env.S3_ENDPOINT, env.S3_BUCKET].filter(Boolean).length;
  if (s3 === 0) return undefined;
  for (const name of [
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
  ] as const) {
    if (!env[name]) return `${name} is required when S3_ENDPOINT or S3_BUCKET is set`;
  }
  return undefined;
}

/** S3 when configured, else the local directory `localDir`. */
export function createObjectStorage(env: StorageEnv, localDir: string): ObjectStorage {
  const problem = storageEnvProblem(env);
  if (problem) throw new Error(problem);
  if (env.S3_ENDPOINT && env.S3_BUCKET) {
    return new S3Storage({
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      region: env.S3_REGION,
      prefix: env.S3_PREFIX,
    });
  }
  return new LocalDirectoryStorage(localDir);
}
