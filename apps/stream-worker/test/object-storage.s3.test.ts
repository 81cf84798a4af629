import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { openFileLogBus, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { listSnapshotFiles, snapshotObjectKey } from "@reco/snapshots";
import { S3Storage, createObjectStorage, type ObjectStorage } from "@reco/storage";
import { createStreamWorker, type StreamWorker } from "@reco/stream";
import { freePort, waitFor, sharedBucket } from "@reco/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { allCommitted, allCovered, consumed, publishEvents, quietLogger } from "./helpers.ts";

/**
 * The stream worker with the real S3-compatible server of scripts/services.sh: every snapshot file
 * reaches the bucket before its offsets are committed (a bucket that cannot be reached holds the
 * commit back), and `train --snapshots object:snapshots/` trains on what the bucket holds.
 */
const s3 = sharedBucket();
const repoRoot = path.resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);
const topics = topicNames("os");
const prefixes: string[] = [];

let dir: string;
let bus: EventBus;
let worker: StreamWorker | undefined;
const root = () => path.join(dir, "snapshots");

function bucketUnderFreshPrefix(): { storage: ObjectStorage; prefix: string } {
  const prefix = `test/stream-worker/${randomUUID()}/`;
  prefixes.push(prefix);
  return { storage: createObjectStorage({ ...s3, S3_PREFIX: prefix }, "/unused"), prefix };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "worker-s3-"));
  bus = await openFileLogBus({ dir: path.join(dir, "events"), pollIntervalMs: 20 });
  await bus.ensureTopics(Object.values(topics));
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  const cleaner = createObjectStorage(s3, "/unused");
  for (const prefix of prefixes)
    for (const object of await cleaner.list(prefix)) await cleaner.delete(object.key);
  await cleaner.close();
});

function startWorker(storage: ObjectStorage): StreamWorker {
  worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger,
    storage,
    config: { snapshotRoot: root(), groupId: "g", batchIntervalMs: 200, batchMaxRecords: 300 },
  });
  return worker;
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("stream worker snapshots in a real S3-compatible bucket", { timeout: 240_000 }, () => {
  it("uploads every snapshot file byte for byte, and train --snapshots object:snapshots/ trains on them", async () => {
    const { storage, prefix } = bucketUnderFreshPrefix();
    await publishEvents(bus, topics, 0, 1_500);
    await startWorker(storage).start();
    await waitFor(() => allCommitted(bus, "g", consumed(topics)), {
      timeoutMs: 60_000,
      description: "every record committed",
    });
    const files = await listSnapshotFiles(root());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const object = await storage.get(snapshotObjectKey(root(), file.path));
      expect(object, file.path).toBeDefined();
      expect(sha(object!)).toBe(sha(await readFile(file.path)));
    }
    await worker!.stop();
    worker = undefined;

    // a trainer with no snapshot directory of its own reads the bucket
    const trainerDir = await mkdtemp(path.join(tmpdir(), "trainer-"));
    try {
      const { stdout } = await run(
        process.execPath,
        [
          "--import",
          "tsx",
          "packages/ml/src/cli/main.ts",
          "train",
          "--model",
          "popularity",
          "--snapshots",
          "object:snapshots/",
          "--no-db",
          "--json",
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, DATA_DIR: trainerDir, ...s3, S3_PREFIX: prefix },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const answer = JSON.parse(stdout.slice(stdout.indexOf("{"))) as {
        version: string;
        dir: string;
        interactions: number;
      };
      expect(answer.version).toBe("v1");
      expect(answer.dir).toMatch(/^object:registry\/popularity\/v1#sha256=[0-9a-f]{64}$/);
      expect(answer.interactions).toBeGreaterThan(0);
      expect(await storage.head("registry/popularity/v1/metadata.json")).toBeDefined();
    } finally {
      await rm(trainerDir, { recursive: true, force: true });
    }
  });

  it("a bucket that cannot be reached holds the commit back: files are written, nothing is committed", async () => {
    const unreachable = new S3Storage({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      bucket: s3.S3_BUCKET,
      accessKeyId: s3.S3_ACCESS_KEY_ID,
      secretAccessKey: s3.S3_SECRET_ACCESS_KEY,
      requestTimeoutMs: 1_000,
    });
    await publishEvents(bus, topics, 0, 300);
    await startWorker(unreachable).start();
    await waitFor(() => allCovered(bus, root(), consumed(topics)), {
      timeoutMs: 60_000,
      description: "every record written to a local snapshot",
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const topic of consumed(topics))
      for (const { offset } of await bus.committedOffsets("g", topic))
        expect(offset, `${topic} committed without its upload`).toBeNull();
    await unreachable.close();
  });
});
