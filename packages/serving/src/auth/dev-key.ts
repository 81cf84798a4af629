import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { apiKeyPrefix } from "./api-key.ts";
import type { ApiKeyStore } from "./key-store.ts";

/**
 * Embedded mode's development key (admin): the `given` one when the launcher chose it, else the one
 * saved in `file` from an earlier start, else a new one saved there (mode 0600) for the web app to read.
 * Returns the key so the caller can print it.
 */
export async function ensureDevApiKey(
  store: ApiKeyStore,
  file: string,
  given?: string,
): Promise<string> {
  let key = given;
  if (!key) {
    const saved = await readFile(file, "utf8").then(
      (text) => text.trim(),
      () => undefined,
    );
    if (saved && apiKeyPrefix(saved)) key = saved;
  }
  if (key) {
    await store.ensure(key, { name: "embedded dev key", role: "admin" });
  } else {
    key = (await store.create({ name: "embedded dev key", role: "admin" })).key;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}
