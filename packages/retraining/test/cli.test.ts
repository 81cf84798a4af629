import { execFile } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSmallSnapshots } from "./helpers.ts";

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, "../../..");
const cli = path.join(repo, "packages/retraining/src/cli/main.ts");

let dataDir: string;
let snapshots: string;

/** The CLI on an embedded database in `dataDir`; never throws, answers the exit code and output. */
async function retrain(...args: string[]) {
  const env = {
    ...process.env,
    DATABASE_URL: "",
    // the local registry of the embedded defaults (npm test exports the S3 server's variables)
    S3_ENDPOINT: "",
    S3_BUCKET: "",
    DATA_DIR: dataDir,
    RETRAIN_MODEL: "ials",
    RETRAIN_PARAMS: "epochs=2,factors=8",
  };
  return run(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repo, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "retraining-cli-"));
  snapshots = (await writeSmallSnapshots()).dir;
  await cp(snapshots, path.join(dataDir, "snapshots"), { recursive: true });
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (snapshots) await rm(snapshots, { recursive: true, force: true });
});

describe("npm run retrain", () => {
  it("trigger with no scheduler live runs the run here and registers a candidate", async () => {
    const result = await retrain("trigger");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /queued run #1\nrunning #1 here\n#1 succeeded manual ials done 100 % → ials v1 \(candidate\)/,
    );
    const status = await retrain("status");
    expect(status.stdout).toMatch(/^#1 succeeded manual ials done 100 % → ials v1 \(candidate\)$/m);
  }, 120_000);

  it("with the embedded database in use by another process, says to use the dashboard or tRPC", async () => {
    const db = await openDatabase({ dataDir });
    try {
      const result = await retrain("trigger");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("is in use (by the api: PGlite allows one process)");
      expect(result.stderr).toContain('the dashboard\'s Retraining page ("Retrain now")');
      expect(result.stderr).toContain("retraining.trigger");
    } finally {
      await db.close();
    }
  }, 60_000);

  it("refuses an unknown command with its usage (exit 2)", async () => {
    const result = await retrain("retrain-everything");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: npm run retrain -- trigger [--wait]");
  }, 30_000);
});
