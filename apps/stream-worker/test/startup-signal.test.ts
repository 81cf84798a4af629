import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitFor } from "@reco/testkit";
import { afterEach, expect, it } from "vitest";
import { appDir } from "./helpers.ts";

let dataDir: string | undefined;
afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("a stop signal while still connecting ends the worker cleanly (exit 0), not by the signal", async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "worker-startup-"));
  // Nothing listens on this port: the worker keeps retrying its broker connection.
  const brokers = `127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(appDir, "src/main.ts")], {
    cwd: appDir,
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      REDIS_URL: "",
      DATABASE_URL: "",
      DATA_DIR: dataDir,
      WORKER_PORT: "0",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit");
  try {
    await waitFor(() => output.includes("retrying"), {
      timeoutMs: 30_000,
      description: "the worker retrying its broker connection",
    });
    child.kill("SIGTERM");
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toContain("stopped during start-up");
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}, 60_000);
