/**
 * Fault test: a publisher killed with SIGKILL at varying moments never leaves a half-written
 * version. After every kill each visible version loads with valid checksums, and a later publish
 * still succeeds with the next number.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomPopularityParams } from "../src/onnx/random-params.ts";
import { listVersions, loadArtifact } from "../src/registry/artifact.ts";
import { publishVersion } from "../src/registry/store.ts";

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/publish-child.ts");
let registryDir: string;
beforeAll(async () => {
  registryDir = await mkdtemp(path.join(tmpdir(), "reco-registry-crash-"));
});
afterAll(async () => {
  await rm(registryDir, { recursive: true, force: true });
});

/**
 * Starts a publisher and SIGKILLs it `delayMs` after it announces the publish (never when
 * Infinity); resolves on exit.
 */
function publishAndKill(delayMs: number, seed: number): Promise<{ finished: boolean }> {
  return new Promise((resolve) => {
    const proc: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", child, registryDir, String(seed)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("publishing") && delayMs >= 0 && delayMs !== Infinity) {
        setTimeout(() => proc.kill("SIGKILL"), delayMs);
        delayMs = -1;
      }
    });
    proc.on("exit", () => resolve({ finished: out.includes("published v") }));
  });
}

// Child processes on a shared 2-core machine: start-up and PGlite migrations can take tens of seconds.
describe("registry publish under SIGKILL", { timeout: 240_000 }, () => {
  it("shows every version whole or not at all, whenever the publisher dies", async () => {
    const outcomes: boolean[] = [];
    for (const [i, delay] of [0, 60, 150, 300, 600, 1200, Infinity].entries()) {
      outcomes.push((await publishAndKill(delay, i)).finished);
      for (const v of await listVersions(registryDir, "crash")) {
        expect(v.problem).toBeUndefined();
        await loadArtifact(v.dir); // throws ArtifactCorrupt on any partial file
      }
    }
    // The last publish runs to completion; the versions on disk are exactly the completed ones.
    expect(outcomes.at(-1)).toBe(true);
    const versions = (await listVersions(registryDir, "crash")).map((v) => v.version);
    expect(versions).toHaveLength(outcomes.filter(Boolean).length);
  });

  it("ignores temp directories left by crashed publishes and prunes old ones", async () => {
    const modelDir = path.join(registryDir, "crash");
    const leftovers = (await readdir(modelDir)).filter((e) => e.startsWith(".tmp-"));
    // Kills 60–1200 ms into a publish of this size (well over a second here) land mid-write.
    expect(leftovers.length).toBeGreaterThan(0);
    const before = (await listVersions(registryDir, "crash")).length;
    const old = new Date(Date.now() - 2 * 3_600_000);
    for (const entry of leftovers) await utimes(path.join(modelDir, entry), old, old);
    const { metadata } = await publishVersion({
      registryDir,
      name: "crash",
      algorithm: "popularity",
      params: randomPopularityParams(5, []),
      idMaps: { users: [], items: ["a", "b", "c", "d", "e"] },
      data: { source: "t", from: null, to: null, nUsers: 0, nItems: 5, nInteractions: 0 },
    });
    expect(metadata.version).toBe(`v${before + 1}`);
    expect((await readdir(modelDir)).filter((e) => e.startsWith(".tmp-"))).toEqual([]);
  });
});
