import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVersion } from "../registry/store.ts";
import { randomFactorParams, randomHistory } from "./random-params.ts";

const child = fileURLToPath(new URL("./telemetry-child.fixture.ts", import.meta.url));
let scratch: string;
let artifactDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "reco-ort-telemetry-"));
  const nUsers = 12;
  const nItems = 40;
  ({ dir: artifactDir } = await publishVersion({
    registryDir: path.join(scratch, "registry"),
    name: "telemetry",
    algorithm: "ials",
    params: randomFactorParams(nUsers, nItems, 4),
    idMaps: {
      users: Array.from({ length: nUsers }, (_, u) => `u${u}`),
      items: Array.from({ length: nItems }, (_, i) => `i${i}`),
    },
    trainHistory: randomHistory(nUsers, nItems, 5),
    hyperparameters: { factors: 4 },
    data: {
      source: "fixture",
      from: "2026-01-01T00:00:00Z",
      to: "2026-01-02T00:00:00Z",
      nUsers,
      nItems,
      nInteractions: 60,
    },
    metrics: {},
  }));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * Runs the child in a process with nothing of this environment but PATH and a fresh HOME (no CI
 * variable, which onnxruntime takes as a reason to stay quiet), and lists what it left in HOME.
 */
async function filesLeftInHome(mode: string): Promise<string[]> {
  const home = await mkdtemp(path.join(scratch, `home-${mode}-`));
  const run = spawnSync(process.execPath, ["--import", "tsx", child, mode, artifactDir], {
    env: { PATH: process.env.PATH, HOME: home },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.stdout + run.stderr).toContain("session made");
  const telemetryDir = path.join(home, ".cache", "Microsoft", "DeveloperTools", ".onnxruntime");
  return existsSync(telemetryDir) ? (await readdir(telemetryDir)).sort() : [];
}

describe("onnxruntime's telemetry", () => {
  it("is on in onnxruntime-node by itself: a session writes a device id and an event store in HOME", async () => {
    expect(await filesLeftInHome("plain")).toEqual(expect.arrayContaining(["deviceid"]));
  });

  it("is off for sessions made through @reco/ml, on the main thread and on threads it starts", async () => {
    expect(await filesLeftInHome("scorer")).toEqual([]);
    expect(await filesLeftInHome("thread")).toEqual([]);
  });
});
