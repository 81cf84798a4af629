import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { S3Storage, StorageUnavailable, createObjectStorage } from "@reco/storage";
import { runStorageContract } from "@reco/storage/contract";
import { freePort, sharedBucket } from "@reco/testkit";

const env = sharedBucket();

// Every storage gets its own key prefix in the shared bucket, removed afterwards.
const prefixes: string[] = [];
function storageUnderFreshPrefix(): S3Storage {
  const prefix = `test/storage/${randomUUID()}/`;
  prefixes.push(prefix);
  return createObjectStorage({ ...env, S3_PREFIX: prefix }, "/unused") as S3Storage;
}
afterAll(async () => {
  const cleaner = createObjectStorage(env, "/unused");
  for (const prefix of prefixes)
    for (const object of await cleaner.list(prefix)) await cleaner.delete(object.key);
  await cleaner.close();
});

runStorageContract("S3 (real server from scripts/services.sh)", {
  makeStorage: async () => storageUnderFreshPrefix(),
});

describe("S3: what the contract leaves open", () => {
  it("keys live under the prefix: another prefix in the same bucket does not see them", async () => {
    const a = storageUnderFreshPrefix();
    const b = storageUnderFreshPrefix();
    await a.put("k", "from a");
    expect(await b.get("k")).toBeUndefined();
    expect(await b.list("")).toEqual([]);
    expect(await a.list("")).toEqual([{ key: "k", bytes: 6 }]);
    await a.close();
    await b.close();
  });

  it("wrong credentials and an unreachable server are StorageUnavailable naming the call and key", async () => {
    const wrong = new S3Storage({
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: "not-the-secret",
    });
    const denied = await wrong.get("some/key").catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(StorageUnavailable);
    expect((denied as Error).message).toMatch(/get "some\/key" failed/);
    await wrong.close();

    const nowhere = new S3Storage({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      requestTimeoutMs: 2_000,
    });
    const down = await nowhere.put("some/key", "x").catch((error: unknown) => error);
    expect(down).toBeInstanceOf(StorageUnavailable);
    expect((down as StorageUnavailable).reason).toBe("storage_unavailable");
    expect((down as Error).message).toMatch(/put "some\/key" failed/);
    await nowhere.close();
  });
});
