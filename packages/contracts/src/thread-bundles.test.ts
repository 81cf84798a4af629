import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildThreadBundles,
  bundlePaths,
  freshBundle,
  repoRoot,
  BUNDLED_ENTRIES,
  THREAD_ENTRIES,
} from "./thread-bundles.ts";
import { typeScriptWorker } from "./worker-thread.ts";

const entry = "packages/contracts/src/thread-bundle.fixture.ts";
const entryFile = path.join(repoRoot, entry);

interface Report {
  stack: string;
  ownUrl: string;
  fields: { name: string; message: string };
}
const firstMessage = (worker: Worker) =>
  new Promise<Report>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  }).finally(() => void worker.terminate());

describe("worker thread bundles", () => {
  let dir: string;
  beforeAll(async () => {
    // Inside the repository: a bundle imports its packages from the node_modules above it.
    await mkdir(path.join(repoRoot, ".cache"), { recursive: true });
    dir = await mkdtemp(path.join(repoRoot, ".cache", "thread-bundles-test-"));
  });
  afterAll(async () => {
    delete process.env.THREAD_BUNDLE_DIR;
    await rm(dir, { recursive: true, force: true });
  });

  it("bundles an entry with its workspace imports into plain JavaScript that keeps import.meta.url", async () => {
    const [bundle] = await buildThreadBundles([entry], dir);
    expect(bundle).toBe(path.join(dir, "packages/contracts/src/thread-bundle.fixture.mjs"));
    // Node runs it without tsx: an .mjs file, no loader registered in the thread.
    const report = await firstMessage(new Worker(pathToFileURL(bundle!)));
    expect(report.stack).toContain("thread-bundle.fixture.mjs");
    expect(report.ownUrl).toBe(pathToFileURL(entryFile).href);
    expect(report.fields).toMatchObject({ name: "TypeError", message: "bundled" });
    const { inputs } = JSON.parse(await readFile(bundlePaths(entry, dir).manifest, "utf8")) as {
      inputs: Record<string, string>;
    };
    expect(Object.keys(inputs)).toEqual(
      expect.arrayContaining([entry, "packages/contracts/src/errors.ts"]),
    );
    expect(freshBundle(entryFile, dir)).toBe(bundle);
  });

  it("typeScriptWorker runs the fresh bundle", async () => {
    process.env.THREAD_BUNDLE_DIR = dir;
    await buildThreadBundles([entry], dir);
    const report = await firstMessage(typeScriptWorker(pathToFileURL(entryFile)));
    expect(report.stack).toContain(
      path.join(dir, "packages/contracts/src/thread-bundle.fixture.mjs"),
    );
    expect(report.ownUrl).toBe(pathToFileURL(entryFile).href);
  });

  it("treats a bundle as stale once one of its inputs changed, or when it is missing", async () => {
    await buildThreadBundles([entry], dir);
    const { manifest } = bundlePaths(entry, dir);
    const recorded = JSON.parse(await readFile(manifest, "utf8")) as {
      inputs: Record<string, string>;
    };
    // As if errors.ts had been edited since the bundle was built.
    recorded.inputs["packages/contracts/src/errors.ts"] = "0".repeat(64);
    await writeFile(manifest, JSON.stringify(recorded));
    expect(freshBundle(entryFile, dir)).toBeUndefined();
    expect(freshBundle(path.join(repoRoot, "packages/contracts/src/no-such-entry.ts"), dir)).toBe(
      undefined,
    );
  });

  it("refuses to bundle an entry whose packages the bundle would not find", async () => {
    await expect(buildThreadBundles([entry], os.tmpdir())).rejects.toThrow(
      /zod resolves differently/,
    );
  });

  it("scripts/run.mjs runs an app from its fresh bundle, else through tsx, with the app's own arguments", async () => {
    const app = "packages/contracts/src/app-bundle.fixture.ts";
    const appDir = path.join(dir, "apps");
    const launch = () => {
      const run = spawnSync(
        process.execPath,
        [path.join(repoRoot, "scripts/run.mjs"), app, "--limit", "3"],
        { cwd: os.tmpdir(), encoding: "utf8", env: { ...process.env, THREAD_BUNDLE_DIR: appDir } },
      );
      expect(run.status).toBe(0);
      return { ...(JSON.parse(run.stdout) as Report & { args: string[] }), stderr: run.stderr };
    };
    const throughTsx = launch();
    expect(throughTsx.stderr).toContain("running it through tsx");
    expect(throughTsx.stack).toContain(path.join(repoRoot, app));
    expect(throughTsx.args).toEqual(["--limit", "3"]);

    const [bundle] = await buildThreadBundles([app], appDir);
    const bundled = launch();
    expect(bundled.stderr).toBe("");
    expect(bundled.stack).toContain(bundle);
    expect(bundled.ownUrl).toBe(pathToFileURL(path.join(repoRoot, app)).href);
    expect(bundled.args).toEqual(["--limit", "3"]);
    expect(bundled.fields).toMatchObject({ name: "TypeError", message: "launched" });
  });

  it("bundles every app and thread the product starts", async () => {
    const built = await buildThreadBundles(BUNDLED_ENTRIES, dir);
    expect(built).toHaveLength(THREAD_ENTRIES.length + 2);
    for (const name of BUNDLED_ENTRIES)
      expect(freshBundle(path.join(repoRoot, name), dir)).toBe(bundlePaths(name, dir).bundle);
  });
});
