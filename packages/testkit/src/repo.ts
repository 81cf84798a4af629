import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);

/** The monorepo root (this file is packages/testkit/src/repo.ts). */
export const repoRoot = resolve(import.meta.dirname, "../../..");

let kafkaLibs: Promise<string> | undefined;

/** Folder of the Kafka broker jars, fetched once through services.sh when missing. */
export function kafkaLibsDir(): Promise<string> {
  kafkaLibs ??= (async () => {
    const script = resolve(repoRoot, "scripts/services.sh");
    if (!existsSync(script)) throw new Error(`testkit: ${script} not found`);
    // Returns at once when the jars are cached; a lock in the script serialises fetches.
    await run("bash", [script, "fetch-kafka"], { timeout: 600_000 });
    return process.env.KAFKA_LIBS_DIR ?? resolve(repoRoot, ".cache/kafka/libs");
  })();
  return kafkaLibs;
}
