import { randomBytes } from "node:crypto";

/**
 * A name no other test (or run) uses, for topics, consumer groups, key prefixes and schemas:
 * `<prefix>_<time>_<random>`, lower-case letters, digits and underscores after the prefix, so it
 * is valid as a Kafka topic, a Redis key part and an unquoted PostgreSQL identifier.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 without padding. Never one that starts
 * with "-": the storage tool would read it as an option and refuse to format (1 run in 64).
 */
export function kafkaClusterId(): string {
  return randomBytes(16).toString("base64url").replace(/^-/, "A");
}
