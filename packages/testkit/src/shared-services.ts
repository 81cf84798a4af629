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
