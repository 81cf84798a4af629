/**
 * The environment of object storage, apart from the adapters so an app's env.ts can read it
 * without loading the S3 client (`@reco/storage/env`).
 */
import { z } from "zod";

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

/** Only the object-storage variables of a wider env (what a job is handed, nothing else). */
export function pickStorageEnv(env: StorageEnv): StorageEnv {
  const picked: StorageEnv = {};
  for (const name of Object.keys(storageEnvFields) as (keyof StorageEnv)[])
    if (env[name] !== undefined) picked[name] = env[name];
  return picked;
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
