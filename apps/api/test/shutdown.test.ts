import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openFileLogBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { freePort, waitFor } from "@reco/testkit";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let dataDir: string | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The real api process in embedded mode, its output collected. */
function spawnApi(dataDir: string, env: Record<string, string>) {
  const output: string[] = [];
  // `node --import tsx` (not the tsx CLI): the signal must reach main.ts itself, not a relaying parent.
  const api = spawn(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      REDIS_URL: "",
      KAFKA_BROKERS: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  api.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    api.once("exit", (code, signal) => resolve([code, signal])),
  );
  return { api, output, exited };
}

describe("graceful shutdown of the real process (main.ts, embedded mode)", () => {
  it("on SIGTERM turns not-ready, answers the requests in flight, flushes queued feedback to the bus and exits 0", async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "api-shutdown-"));
    const port = await freePort();
    const started = spawnApi(dataDir, {
      PORT: String(port),
      LOG_LEVEL: "warn",
      SHUTDOWN_GRACE_MS: "3000",
    });
    child = started.api;
    const { output } = started;
    const exited = started.exited.then(([code]) => code);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${base}/healthz`).then((r) => r.ok), {
      timeoutMs: 90_000,
      intervalMs: 250,
      description: () => `api up (output: ${output.join("")})`,
    });
    const key = (await readFile(path.join(dataDir, "dev-api-key"), "utf8")).trim();
    // the log names the key's prefix and file, never the secret itself
    expect(output.join("")).toContain(
      `development API key (admin): ${key.split("_").slice(0, 2).join("_")}_…`,
    );
    expect(output.join("")).not.toContain(key);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

    const events = Array.from({ length: 200 }, (_, i) => ({
      userId: `s${i % 7}`,
      itemId: String(i),
      type: "click",
    }));
    const inFlight = [
      ...Array.from({ length: 10 }, (_, i) => fetch(`${base}/recommend/u${i}?k=5`, { headers })),
      fetch(`${base}/feedback`, { method: "POST", headers, body: JSON.stringify({ events }) }),
    ];
    // Give the requests a moment to be accepted, then ask the process to stop while they run.
    await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill("SIGTERM");
    // During the grace period the process is not ready but still answers.
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, {
      timeoutMs: 300,
      intervalMs: 20,
      description: "readyz 503 while closing",
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nprocess output:\n${output.join("")}`);
    });
    expect((await fetch(`${base}/recommend/late?k=2`, { headers })).status).toBe(200);
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual([...Array(10).fill(200), 202]);
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    const bus = await openFileLogBus({ dir: path.join(dataDir, "events"), readOnly: true });
    try {
      const [end] = await bus
        .endOffsets(topicNames("reco").click)
        .then((offsets) => [offsets.reduce((sum, p) => sum + Number(p.offset), 0)]);
      expect(end).toBe(200);
    } finally {
      await bus.close();
    }
  }, 150_000);

  it("a SIGTERM during start-up lets start-up finish, then stops cleanly (exit 0); the data directory opens again", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "api-early-stop-"));
    try {
      const start = (logLevel: string) =>
        spawnApi(dir, { PORT: "0", LOG_LEVEL: logLevel, SHUTDOWN_GRACE_MS: "0" });

      // Debug logging shows the database being migrated: the signal lands in the middle of start-up.
      const first = start("debug");
      await waitFor(() => first.output.join("").includes('"component":"db"'), {
        timeoutMs: 60_000,
        description: "the api migrating its database",
      });
      first.api.kill("SIGTERM");
      expect(await first.exited).toEqual([0, null]);
      expect(first.output.join("")).toContain("stop requested during start-up");

      const second = start("info");
      await waitFor(() => second.output.join("").includes("api listening on"), {
        timeoutMs: 60_000,
        description: () => `a second start on the same data (output: ${second.output.join("")})`,
      });
      second.api.kill("SIGTERM");
      expect(await second.exited).toEqual([0, null]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
