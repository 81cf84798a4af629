import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";

export class DatabaseLocked extends Error {
  override name = "DatabaseLocked";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite has no locking of its own and two processes writing one data directory corrupt it, so
 * the embedded database is guarded by a pid file. A lock left by a dead process is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
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
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DatabaseLocked(
          `the embedded database ${dir} is in use by process ${owner} (a running api?): stop it, or point DATABASE_URL at PostgreSQL to share a database between processes`,
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new DatabaseLocked(`could not lock the embedded database ${dir}`);
}
