import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalDirectoryStorage, createObjectStorage } from "@reco/storage";
import { runStorageContract } from "@reco/storage/contract";

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "storage-local-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

runStorageContract("local directory", {
  makeStorage: async () => new LocalDirectoryStorage(await freshDir()),
});

describe("local directory: what the contract leaves open", () => {
  it("objects are plain files under the root; a crashed write's temp file is never listed", async () => {
    const root = await freshDir();
    const storage = new LocalDirectoryStorage(root);
    await storage.put("registry/m/v1/metadata.json", "{}");
    expect(await readdir(path.join(root, "registry/m/v1"))).toEqual(["metadata.json"]);
    // what a process killed between its write and its rename leaves behind
    await writeFile(path.join(root, "registry/m/v1/.tmp-deadbeef"), "half");
    await mkdir(path.join(root, "registry/m/.tmp-dir"), { recursive: true });
    await writeFile(path.join(root, "registry/m/.tmp-dir/model.onnx"), "half");
    expect((await storage.list("registry/")).map((o) => o.key)).toEqual([
      "registry/m/v1/metadata.json",
    ]);
  });

  it("chooses the local directory without S3 variables, and names a missing one", () => {
    const storage = createObjectStorage({}, "/tmp/x");
    expect(storage).toBeInstanceOf(LocalDirectoryStorage);
    expect(storage.location).toBe("/tmp/x");
    expect(() =>
      createObjectStorage({ S3_ENDPOINT: "http://127.0.0.1:1", S3_BUCKET: "b" }, "/tmp/x"),
    ).toThrow(/S3_ACCESS_KEY_ID is required/);
    expect(() => createObjectStorage({ S3_BUCKET: "b" }, "/tmp/x")).toThrow(
      /S3_ENDPOINT is required/,
    );
  });
});
