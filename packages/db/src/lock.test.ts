import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processAlive } from "@reco/contracts";
import { DatabaseLocked, lockDataDir } from "./lock.ts";

/** Polls /proc until `pid` is in `state` (an independent reading of what alive() must decide). */
async function waitForState(pid: number, state: string): Promise<void> {
  const deadline = Date.now() + 20_000; // a loaded machine can take seconds to run a shell
  let last = "";
  while (Date.now() < deadline) {
    last = await readFile(`/proc/${pid}/stat`, "utf8").catch((error: Error) => error.message);
    if (last.split(") ")[1]?.startsWith(state)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} never reached state ${state}; last /proc/${pid}/stat: ${last}`);
}

describe("lockDataDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "reco-lock-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("refuses a second holder while a live process owns the lock, naming it", async () => {
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      await writeFile(path.join(dir, "reco.lock"), `${sleeper.pid}\n`);
      await expect(lockDataDir(dir)).rejects.toThrow(DatabaseLocked);
      await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${sleeper.pid}`);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("takes over a lock left by a dead process and releases it on unlock", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.once("exit", resolve));
    await writeFile(path.join(dir, "reco.lock"), `${dead.pid}\n`);
    const unlock = await lockDataDir(dir);
    expect((await readFile(path.join(dir, "reco.lock"), "utf8")).trim()).toBe(String(process.pid));
    await unlock();
    await expect(readFile(path.join(dir, "reco.lock"), "utf8")).rejects.toThrow(/ENOENT/);
    // free again
    await (
      await lockDataDir(dir)
    )();
  });

  it("takes over a lock whose owner was killed but not yet reaped (a zombie), as after SIGKILL of a process group", async () => {
    // A Perl parent forks a child that exits at once and never reaps it (SIGCHLD set to its
    // default, in case the test runner ignores it, which would let the kernel reap at once): the
    // child stays a zombie while the parent sleeps — signalable, yet holding nothing.
    const parent = spawn(
      "perl",
      [
        "-e",
        '$SIG{CHLD} = "DEFAULT"; $| = 1; my $pid = fork(); exit 0 unless $pid; print "$pid\\n"; sleep 30;',
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const zombie = Number(
        await new Promise<string>((resolve) => parent.stdout.once("data", (d) => resolve(`${d}`))),
      );
      await waitForState(zombie, "Z").catch((error: Error) => {
        const running = parent.exitCode === null && parent.signalCode === null;
        throw new Error(
          `${error.message}; its parent ${running ? "still runs" : `ended (${parent.exitCode ?? parent.signalCode})`}`,
        );
      });
      expect(() => process.kill(zombie, 0)).not.toThrow(); // the naive liveness check says alive
      expect(processAlive(zombie)).toBe(false);
      await writeFile(path.join(dir, "reco.lock"), `${zombie}\n`);
      const unlock = await lockDataDir(dir);
      expect((await readFile(path.join(dir, "reco.lock"), "utf8")).trim()).toBe(
        String(process.pid),
      );
      await unlock();
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("waits for a live holder that exits within waitMs, saying so once, then takes the lock", async () => {
    const spawnedAt = Date.now();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 700)"]);
    const waits: number[] = [];
    try {
      await writeFile(path.join(dir, "reco.lock"), `${holder.pid}\n`);
      const exited = new Promise<number>((resolve) =>
        holder.once("exit", () => resolve(Date.now())),
      );
      const unlock = await lockDataDir(dir, {
        waitMs: 20_000,
        onWait: (owner) => waits.push(owner),
      });
      const lockedAt = Date.now();
      // The holder cannot exit before its 700 ms timer. Its 'exit' event is no bound: a zombie
      // already counts as gone, and node reaps it (and emits 'exit') a moment later.
      expect(lockedAt - spawnedAt).toBeGreaterThanOrEqual(700);
      await exited;
      expect(waits).toEqual([holder.pid]);
      expect((await readFile(path.join(dir, "reco.lock"), "utf8")).trim()).toBe(
        String(process.pid),
      );
      await unlock();
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("gives up after waitMs on a holder that stays, naming it and the wait", async () => {
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      await writeFile(path.join(dir, "reco.lock"), `${sleeper.pid}\n`);
      const started = Date.now();
      await expect(lockDataDir(dir, { waitMs: 600 })).rejects.toThrow(
        `in use by process ${sleeper.pid} (a running api?) after waiting 1 s`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });
});
