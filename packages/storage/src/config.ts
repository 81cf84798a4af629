/**
 * Which adapter a process uses, from its parsed environment: S3 when S3_ENDPOINT and S3_BUCKET are
 * set (credentials then required), else the local directory (embedded mode).
 */
import { BadInput } from "@reco/contracts";
import { type StorageEnv, storageEnvProblem } from "./env-fields.ts";
import { LocalDirectoryStorage } from "./local.ts";
import type { ObjectStorage } from "./port.ts";
import { S3Storage } from "./s3.ts";

/** S3 when configured, else the local directory `localDir`. */
export function createObjectStorage(env: StorageEnv, localDir: string): ObjectStorage {
  const problem = storageEnvProblem(env);
  if (problem) throw new BadInput(problem);
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
