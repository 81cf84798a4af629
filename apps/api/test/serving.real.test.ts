import { randomUUID } from "node:crypto";
import { connectKafkaBus } from "@reco/bus";
import { createRedisCache } from "@reco/cache";
import { runServingSuite } from "./serving-suite.ts";

const { REDIS_URL, KAFKA_BROKERS } = process.env;
if (!REDIS_URL || !KAFKA_BROKERS) {
  throw new Error(
    `this suite runs against real Redis and Kafka but ${!REDIS_URL ? "REDIS_URL" : "KAFKA_BROKERS"} is not set: ` +
      'run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first.',
  );
}
const redisUrl: string = REDIS_URL;
const brokers: string = KAFKA_BROKERS;

runServingSuite("real services (Redis, Kafka)", {
  // A namespace and topic prefix of its own: the shared services see no collisions.
  cache: () => createRedisCache({ url: redisUrl, namespace: `test:serving:${randomUUID()}:` }),
  bus: () => connectKafkaBus({ brokers, clientId: `serving-test-${randomUUID().slice(0, 8)}` }),
});
