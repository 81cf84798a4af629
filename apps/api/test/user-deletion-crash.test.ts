import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { ApiKeyStore } from "@reco/serving";
import { waitFor } from "@reco/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { seedCatalog, startCatalogInstance } from "./catalog-fixture.ts";
import { call } from "./serving-fixture.ts";
import { ERASED, scanParquet, seedUserRows, seedUserSnapshots } from "./user-data-fixture.ts";

/**
 * A deletion cut short: the api process is killed with SIGKILL right after it rewrote the first
 * snapshot file of the user (a hook of the child script). Every file is readable afterwards (the
 * old or the new one, never half of one), the request is still pending, and the next start of an
 * api on the same data finishes it by itself.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const topics = topicNames("embedded");
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("user deletion killed midway", () => {
  it("leaves whole files and a pending request; the next start finishes it", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "user-deletion-crash-"));
    const seeding = await openDatabase({ dataDir: dir });
    const snapshotsRoot = await seedCatalog(seeding, dir);
    await seedUserSnapshots(snapshotsRoot, topics);
    await seedUserRows(seeding);
    const adminKey = (await new ApiKeyStore(seeding.prisma).create({ name: "dpo", role: "admin" }))
      .key;
    await seeding.close();
    const before = await scanParquet(snapshotsRoot, ERASED);
    expect(before.mentioning).toBe(6);

    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(here, "user-deletion-crash-child.ts")],
      { env: { ...process.env, CRASH_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const output: string[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const exited = once(child, "exit");
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`child exited early:\n${output.join("")}`);
        return /listening (\S+)/.test(output.join(""));
      },
      { timeoutMs: 120_000 },
    );
    const baseUrl = /listening (\S+)/.exec(output.join(""))![1]!;
    // The process dies while answering: the request fails with a closed connection.
    await expect(
      call({ baseUrl }, `/users/${ERASED}`, { method: "DELETE", key: adminKey }),
    ).rejects.toThrow();
    const [, signal] = await exited;
    expect(signal).toBe("SIGKILL");

    // One file rewritten (the click file, first by path: ERASED's 2 clicks), the other two not.
    const cut = await scanParquet(snapshotsRoot, ERASED); // throws on a file DuckDB cannot read
    expect(cut.mentioning).toBe(4);
    const { [ERASED]: _erased, ...othersBefore } = before.perUser;
    const { [ERASED]: _left, ...othersCut } = cut.perUser;
    expect(othersCut).toEqual(othersBefore);
    const temps = (await readdir(snapshotsRoot, { recursive: true })).filter((name) =>
      name.includes(".tmp-"),
    );
    expect(temps).toEqual([]);

    // The next start: the runtime resumes the pending deletion by itself.
    const db = await openDatabase({ dataDir: dir });
    const bus = await openFileLogBus({ dir: path.join(dir, "events") });
    const pending = await db.prisma.userDeletion.findUniqueOrThrow({ where: { userId: ERASED } });
    expect(pending).toMatchObject({ status: "pending", snapshotFiles: 1, snapshotRows: 2 });
    const instance = await startCatalogInstance({
      db,
      cache: new MemoryCache({ maxEntries: 1_000 }),
      bus,
      topics,
      snapshotsRoot,
    });
    try {
      let answer = await call(instance, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
      await waitFor(
        async () => {
          answer = await call(instance, `/users/${ERASED}`, { method: "DELETE", key: adminKey });
          return answer.status === 200;
        },
        { timeoutMs: 30_000 },
      );
      expect(answer.body).toMatchObject({
        status: "done",
        requestedBy: "dpo",
        // counted file by file across both runs: 2 rows before the kill, 4 after
        removed: { snapshotFiles: 3, snapshotRows: 6, experimentStatRows: 4, userRows: 1 },
      });
      const after = await scanParquet(snapshotsRoot, ERASED);
      expect(after.mentioning).toBe(0);
      expect(after.perUser).toEqual(othersBefore);
      // The history loaded at this start still had the user's rows; the resumed deletion dropped them.
      expect(instance.runtime.history.count(ERASED)).toBe(0);
      expect(await db.prisma.experimentUserStat.count({ where: { userId: ERASED } })).toBe(0);
    } finally {
      await instance.close();
      await bus.close();
      await db.close();
    }
  }, 240_000);
});
