import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "@reco/testkit";
import { isAlive } from "./process-state.ts";

interface Held {
  pid: number;
  dir: string;
  exited: Promise<void>;
  signal: (signal: NodeJS.Signals) => void;
}

/** Runs the fixture in a separate Node process and reads what it started. */
async function holdRedis(mode: "exit" | "wait"): Promise<Held> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fixtures/hold-redis.ts"), mode],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const line = await waitFor(() => output.split("\n").find((l) => l.startsWith("{")), {
    timeoutMs: 30_000,
    description: "the fixture to report its private redis",
  });
  const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
  return { pid, dir, exited, signal: (signal) => child.kill(signal) };
}

describe("leftover private services", () => {
  it("are killed and their data removed when the test process exits normally", async () => {
    const held = await holdRedis("exit");
    await held.exited;
    await waitFor(() => !isAlive(held.pid), {
      timeoutMs: 5000,
      description: `redis pid ${held.pid} to die`,
    });
    expect(existsSync(held.dir)).toBe(false);
  });

  it("are killed when the test process is terminated by SIGTERM", async () => {
    const held = await holdRedis("wait");
    expect(isAlive(held.pid)).toBe(true);
    held.signal("SIGTERM");
    await held.exited;
    await waitFor(() => !isAlive(held.pid), {
      timeoutMs: 5000,
      description: `redis pid ${held.pid} to die`,
    });
    expect(existsSync(held.dir)).toBe(false);
  });

  it("are killed when the test process dies by SIGKILL, and their data is swept by the next test process", async () => {
    const held = await holdRedis("wait");
    expect(isAlive(held.pid)).toBe(true);
    held.signal("SIGKILL");
    await held.exited;
    await waitFor(() => !isAlive(held.pid), {
      timeoutMs: 5000,
      description: `redis pid ${held.pid} to die`,
    });
    expect(existsSync(held.dir)).toBe(true);

    const next = await holdRedis("exit");
    await next.exited;
    expect(existsSync(held.dir)).toBe(false);
  });
});
