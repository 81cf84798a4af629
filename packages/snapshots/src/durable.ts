import { open, rename, stat } from "node:fs/promises";
import path from "node:path";

/** fsync a file or a directory (after a rename, so the new name survives a crash). */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function pathExists(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    () => false,
  );
}

/** Makes a fully written temp file visible under its final name, crash-safely: fsync, rename, fsync dir. */
export async function renameDurably(tempPath: string, finalPath: string): Promise<void> {
  await fsyncPath(tempPath);
  await rename(tempPath, finalPath);
  await fsyncPath(path.dirname(finalPath));
}
