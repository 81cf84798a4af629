import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseLocked, lockDataDir } from "./lock.ts";

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

  it("waits for a live holder that exits within waitMs, saying so once, then takes the lock", async () => {
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
      expect(lockedAt).toBeGreaterThanOrEqual(await exited);
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
