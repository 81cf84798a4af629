import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { IMPORT_TOPIC } from "@reco/importer";
import { isStoredVersion, parseStoredVersion } from "@reco/ml";
import { ApiKeyStore } from "@reco/serving";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { createObjectStorage, type ObjectStorage } from "@reco/storage";
import {
  createScratchDatabase,
  sharedBucket,
  sharedServices,
  waitFor,
  type ScratchDatabase,
} from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppProcess, apiProcess, repoRoot, tempDir } from "./whole-stack/stack.ts";

/**
 * Object storage on the real S3-compatible server of scripts/services.sh and real PostgreSQL: the
 * train CLI uploads each version to one bucket, two api processes with their own DATA_DIRs fetch
 * it into their own caches and serve the same answers; a corrupted object is refused by checksum
 * while the previous version keeps serving; a publisher killed after its upload leaves no row.
 */
const { databaseUrl } = sharedServices();
const s3 = { ...sharedBucket(), S3_PREFIX: `test/object-storage/${randomUUID()}/` };
const run = promisify(execFile);
const ITEMS = 40;
const USERS = 30;

let scratch: ScratchDatabase;
let db: Database;
let bucket: ObjectStorage;
let work: string;
let clientKey: string;
let viewerKey: string;
const apis: { app: AppProcess; url: string; dataDir: string }[] = [];

function ratings(): RateEvent[] {
  const out: RateEvent[] = [];
  for (let u = 0; u < USERS; u += 1)
    for (let r = 0; r < 8; r += 1)
      out.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `os-${u}-${r}`,
        eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, out.length % 60)).toISOString(),
        userId: `u${u}`,
        type: "rate",
        itemId: String(((u * 3 + r * 7) % ITEMS) + 1),
        rating: 1 + ((u + r) % 5),
      });
  return out;
}

/** `npm run train -- train` as a child process, with the bucket; returns its --json answer. */
async function train(seed: number): Promise<{ version: string; dir: string }> {
  const env = {
    ...process.env,
    DATABASE_URL: scratch.url,
    DATA_DIR: path.join(work, "trainer"),
    ...s3,
  };
  const { stdout } = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      "packages/ml/src/cli/main.ts",
      "train",
      "--model",
      "ials",
      "--name",
      "ials",
      "--data",
      path.join(work, "ratings.csv"),
      "--factors",
      "8",
      "--epochs",
      "3",
      "--seed",
      String(seed),
      "--json",
    ],
    { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.slice(stdout.indexOf("{"))) as { version: string; dir: string };
}

async function makeStable(version: string): Promise<void> {
  await new ModelVersionStore(db.prisma).setStage({ name: "ials", version }, "stable", {
    by: "test",
    reason: "object storage test",
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the JSON answer
async function recommend(url: string, userId: string): Promise<any> {
  const response = await fetch(`${url}/recommend/${userId}?k=5`, {
    headers: { authorization: `Bearer ${clientKey}` },
    signal: AbortSignal.timeout(10_000),
  });
  expect(response.status).toBe(200);
  return response.json();
}

interface ModelsGetAnswer {
  result: {
    data: {
      registry: { problems: string[]; metadata: Record<string, unknown>; modelCard: string | null };
    };
  };
}

/** Both instances answer every probe user from `version`, and with the same items. */
async function bothServe(version: string): Promise<string[][]> {
  const answers: string[][] = [];
  for (const user of ["u1", "u7", "u19"]) {
    const [a, b] = await Promise.all(apis.map((api) => recommend(api.url, user)));
    if (a.modelVersion !== b.modelVersion || !String(a.modelVersion).includes(version))
      throw new Error(`serving ${a.modelVersion} and ${b.modelVersion}, waiting for ${version}`);
    expect(a.fallback).toBe(false);
    const items = (x: { items: { itemId: string }[] }) => x.items.map((i) => i.itemId);
    expect(items(a)).toEqual(items(b));
    expect(items(a)).toHaveLength(5);
    answers.push(items(a));
  }
  return answers;
}

beforeAll(async () => {
  scratch = await createScratchDatabase(databaseUrl, "object_storage");
  work = await tempDir("object-storage");
  bucket = createObjectStorage(s3, "/unused");
  db = await openDatabase({ databaseUrl: scratch.url });
  await db.prisma.item.createMany({
    data: Array.from({ length: ITEMS }, (_, i) => ({
      externalId: String(i + 1),
      title: `Movie ${i + 1}`,
      genres: ["Drama"],
    })),
  });
  clientKey = (await new ApiKeyStore(db.prisma).create({ name: "os", role: "client" })).key;
  viewerKey = (await new ApiKeyStore(db.prisma).create({ name: "os-viewer", role: "viewer" })).key;
  const events = ratings();
  await writeFile(
    path.join(work, "ratings.csv"),
    ["userId,itemId,rating,timestamp"]
      .concat(
        events.map((e) => `${e.userId},${e.itemId},${e.rating},${Date.parse(e.eventTime) / 1000}`),
      )
      .join("\n") + "\n",
  );
  // Two DATA_DIRs with the same history; nothing of the registry is in either.
  for (const name of ["api-a", "api-b"]) {
    const dataDir = path.join(work, name);
    await writeSnapshot(
      path.join(dataDir, "snapshots"),
      { topic: IMPORT_TOPIC, partition: 0, firstOffset: 0n, lastOffset: BigInt(events.length - 1) },
      events.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
    );
    const { app, url } = await apiProcess(
      name,
      { DATABASE_URL: scratch.url, DATA_DIR: dataDir, ...s3 },
      work,
    );
    apis.push({ app, url, dataDir });
  }
}, 300_000);

afterAll(async () => {
  for (const api of apis) await api.app.dispose();
  await db?.close();
  await scratch?.drop();
  if (bucket) {
    for (const object of await bucket.list("")) await bucket.delete(object.key);
    await bucket.close();
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe(
  "model registry in a real S3-compatible bucket, two api instances",
  { timeout: 300_000 },
  () => {
    it("both instances serve a newly trained version fetched from the bucket into their own caches", async () => {
      const v1 = await train(1);
      expect(v1.version).toBe("v1");
      expect(isStoredVersion(v1.dir)).toBe(true);
      const row = await new ModelVersionStore(db.prisma).find("ials", "v1");
      expect(row?.artifactPath).toBe(v1.dir);
      // the trainer kept no registry of its own: the bucket is the registry
      expect((await bucket.list("registry/ials/v1/")).map((o) => o.key)).toEqual(
        ["MODEL_CARD.md", "id-maps.json", "metadata.json", "model.onnx", "train-history.bin"].map(
          (f) => `registry/ials/v1/${f}`,
        ),
      );
      await makeStable("v1");
      await Promise.all(apis.map((api) => api.app.start()));
      await waitFor(() => bothServe("v1").then(() => true), { timeoutMs: 60_000, intervalMs: 500 });

      const v2 = await train(2);
      expect(v2.version).toBe("v2");
      await makeStable("v2");
      const answers = await waitFor(() => bothServe("v2"), { timeoutMs: 60_000, intervalMs: 500 });
      expect(answers).toHaveLength(3);
      // each instance verified its own copy under its DATA_DIR, byte for byte the bucket's
      const model = await bucket.get("registry/ials/v2/model.onnx");
      for (const api of apis) {
        const cached = await readFile(
          path.join(api.dataDir, "model-cache", "ials", "v2", "model.onnx"),
        );
        expect(Buffer.compare(cached, Buffer.from(model!))).toBe(0);
      }
    });

    it("the models page reads a bucket version's metadata and model card through either instance", async () => {
      for (const api of apis) {
        const input = encodeURIComponent(JSON.stringify({ name: "ials", version: "v2" }));
        const response = await fetch(`${api.url}/trpc/models.get?input=${input}`, {
          headers: { authorization: `Bearer ${viewerKey}` },
        });
        expect(response.status).toBe(200);
        const { registry } = ((await response.json()) as ModelsGetAnswer).result.data;
        expect(registry.problems).toEqual([]);
        expect(registry.metadata).toMatchObject({ name: "ials", version: "v2", algorithm: "ials" });
        // the card is the bucket's, byte for byte
        const card = Buffer.from((await bucket.get("registry/ials/v2/MODEL_CARD.md"))!);
        expect(registry.modelCard).toBe(card.toString("utf8"));
      }
    });

    it("a corrupted object is refused by its checksum and the previous version keeps serving", async () => {
      const v3 = await train(3);
      expect(v3.version).toBe("v3");
      const model = (await bucket.get("registry/ials/v3/model.onnx"))!;
      model[Math.floor(model.length / 3)]! ^= 0x10;
      await bucket.put("registry/ials/v3/model.onnx", model);
      await makeStable("v3");
      // requests make both instances look up the new stable version; they fetch and refuse it
      await waitFor(
        async () => {
          for (const api of apis)
            expect((await recommend(api.url, "u3")).modelVersion).toContain("v2");
          const logs = await Promise.all(apis.map((api) => readFile(api.app.logFile, "utf8")));
          return logs.every((log) => /model version refused/.test(log) && log.includes("ials@v3"));
        },
        { timeoutMs: 60_000, intervalMs: 500, description: "both apis log the refusal of v3" },
      );
      for (const api of apis) {
        const log = await readFile(api.app.logFile, "utf8");
        expect(log).toMatch(/model\.onnx sha256 [0-9a-f]{64} ≠ recorded/);
        expect(log).toContain('"keptServing":"ials@v2"');
      }
      await bothServe("v2");
      for (const api of apis)
        await expect(
          readFile(path.join(api.dataDir, "model-cache", "ials", "v3", "model.onnx")),
        ).rejects.toThrow(/ENOENT/);
    });

    it("a publisher killed after its upload, before its row, leaves no row pointing at the bucket's objects", async () => {
      const result = await run(
        process.execPath,
        ["--import", "tsx", "apps/api/test/fixtures/crash-after-upload.ts", "ials", "v4"],
        { cwd: repoRoot, env: { ...process.env, ...s3 } },
      ).then(
        () => ({ signal: null as string | null, stdout: "" }),
        (error: { signal: string | null; stdout: string }) => error,
      );
      expect(result.signal).toBe("SIGKILL");
      expect(result.stdout).toMatch(/^uploaded object:registry\/ials\/v4#sha256=/);
      expect(await bucket.head("registry/ials/v4/metadata.json")).toBeDefined();
      expect(await new ModelVersionStore(db.prisma).find("ials", "v4")).toBeNull();
      // every row that names the bucket names a version whose manifest and files are there
      const rows = await db.prisma.modelVersion.findMany({ select: { artifactPath: true } });
      expect(rows.length).toBe(3);
      for (const { artifactPath } of rows) {
        expect(isStoredVersion(artifactPath)).toBe(true);
        const { prefix } = parseStoredVersion(artifactPath);
        const keys = (await bucket.list(prefix)).map((o) => o.key.slice(prefix.length));
        expect(keys).toEqual(
          expect.arrayContaining(["metadata.json", "model.onnx", "id-maps.json"]),
        );
      }
      // the next training run does not reuse the label the crashed one took in the bucket
      expect((await train(5)).version).toBe("v5");
    });
  },
);
