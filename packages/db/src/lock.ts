import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { processAlive } from "@reco/contracts";

export class DatabaseLocked extends Error {
  override name = "DatabaseLocked";
}

export interface LockOptions {
  /**
   * While the lock's owner is alive, keep trying this long (a previous process still closing the
   * database) before failing with DatabaseLocked; 0 fails at once (default).
   */
  waitMs?: number;
  /** Called once when the lock is held by a live process and waiting starts. */
  onWait?: (owner: number, waitMs: number) => void;
}

/**
 * PGlite has no locking of its own and two processes writing one data directory corrupt it, so
 * the embedded database is guarded by a pid file. A lock left by a dead process is taken over;
 * one held by a live process is waited for up to `waitMs`.
 */
export async function lockDataDir(
  dir: string,
  options: LockOptions = {},
): Promise<() => Promise<void>> {
  const waitMs = options.waitMs ?? 0;
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    try {
      return await tryLock(dir);
    } catch (error) {
      if (!(error instanceof HeldBy) || Date.now() >= deadline) {
        throw error instanceof HeldBy
          ? new DatabaseLocked(
              `the embedded database ${dir} is in use by process ${error.owner} (a running api?)${waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)} s` : ""}: stop it, or point DATABASE_URL at PostgreSQL to share a database between processes`,
            )
          : error;
      }
      if (!waiting) {
        waiting = true;
        options.onWait?.(error.owner, waitMs);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

class HeldBy extends Error {
  constructor(readonly owner: number) {
    super(`held by ${owner}`);
  }
}

async function tryLock(dir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dir, "reco.lock");
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        const owner = await readFile(lockPath, "utf8").catch(() => "");
        if (Number(owner) === process.pid) await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number((await readFile(lockPath, "utf8").catch(() => "")).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new HeldBy(owner);
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new DatabaseLocked(`could not lock the embedded database ${dir}`);
}
