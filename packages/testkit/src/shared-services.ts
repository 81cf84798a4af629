/**
 * The shared real services of `scripts/services.sh`, as a suite that needs all three reads them:
 * their URLs, or an error that says how to start them (never a silent skip).
 */
export interface SharedServices {
  databaseUrl: string;
  redisUrl: string;
  brokers: string;
}

export function sharedServices(env: NodeJS.ProcessEnv = process.env): SharedServices {
  const { DATABASE_URL, REDIS_URL, KAFKA_BROKERS } = env;
  if (!DATABASE_URL || !REDIS_URL || !KAFKA_BROKERS) {
    throw new Error(
      "this suite needs real PostgreSQL, Redis and Kafka (DATABASE_URL, REDIS_URL, KAFKA_BROKERS): " +
        'run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first.',
    );
  }
  return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, brokers: KAFKA_BROKERS };
}

/** The S3-compatible server of `scripts/services.sh`, as the apps' S3_* variables. */
export interface SharedBucket {
  S3_ENDPOINT: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
}

export function sharedBucket(env: NodeJS.ProcessEnv = process.env): SharedBucket {
  const { S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = env;
  if (!S3_ENDPOINT || !S3_BUCKET || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new Error(
      "S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY are not set: this suite runs " +
        "against a real S3-compatible server. Run `bash scripts/services.sh up s3` and " +
        '`eval "$(bash scripts/services.sh env)"` first.',
    );
  }
  return { S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY };
}
