import { runRolloutsEndToEnd } from "./rollouts-e2e-suite.ts";

// Needs DATABASE_URL, REDIS_URL and KAFKA_BROKERS (the suite fails with a clear message without them).
runRolloutsEndToEnd("real");
