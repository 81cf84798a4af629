/**
 * The local-directory adapter (embedded mode): an object is a file under the root; a write goes to
 * a dot-named temp file in the same directory, is fsynced and renamed over the key, so readers see
 * the old file or the new one, never a part. Dot-named files are never listed.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { type ObjectInfo, type ObjectStorage, checkKey, checkPrefix } from "./port.ts";

const TEMP_PREFIX = ".tmp-";

async function syncPath(p: string): Promise<void> {
  const handle = await open(p, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export class LocalDirectoryStorage implements ObjectStorage {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = path.resolve(root);
  }

  private pathOf(key: string): string {
    return path.join(this.location, ...checkKey(key).split("/"));
  }

  /** Writes through a temp file beside the target, then renames it into place. */
  private async replace(key: string, write: (tempPath: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString("hex")}`);
    try {
      await write(temp);
      await syncPath(temp);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncPath(dir);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.replace(key, async (temp) => {
      const handle = await open(temp, "wx");
      try {
        await handle.writeFile(body);
      } finally {
        await handle.close();
      }
    });
  }

  async putFile(key: string, filePath: string): Promise<void> {
    await this.replace(key, (temp) =>
      pipeline(createReadStream(filePath), createWriteStream(temp, { flags: "wx" })),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === "EISDIR") return undefined;
      throw error;
    }
  }

  async getToFile(key: string, filePath: string): Promise<boolean> {
    const source = this.pathOf(key);
    const info = await this.head(key);
    if (!info) return false;
    await mkdir(path.dirname(filePath), { recursive: true });
    const temp = `${filePath}${TEMP_PREFIX}${randomBytes(6).toString("hex")}`;
    try {
      await pipeline(createReadStream(source), createWriteStream(temp, { flags: "wx" }));
      await rename(temp, filePath);
    } catch (error) {
      await rm(temp, { force: true });
      if (isMissing(error)) return false;
      throw error;
    }
    return true;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, bytes: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    // Walk only the deepest directory the prefix names fully.
    const slash = prefix.lastIndexOf("/");
    const base = slash < 0 ? "" : prefix.slice(0, slash + 1);
    const out: ObjectInfo[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(path.join(this.location, relative), { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(".")) continue;
        const key = `${relative}${entry.name}`;
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(`${key}/`);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const info = await stat(path.join(this.location, key)).catch(() => undefined);
          if (info) out.push({ key, bytes: info.size });
        }
      }
    };
    await walk(base);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async close(): Promise<void> {}
}
