// Plain JavaScript, so the launcher (scripts/run.mjs) can ask before anything registers tsx; the
// bundler (thread-bundles.ts) writes what this reads. Types in bundle-freshness.d.mts.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is packages/contracts/src/bundle-freshness.mjs). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Where `npm ci` / `npm start` write the JavaScript bundles of the apps and worker threads
 * (THREAD_BUNDLE_DIR overrides; inside the repository, where the bundles find node_modules).
 */
export function threadBundleDir() {
  return process.env.THREAD_BUNDLE_DIR || path.join(repoRoot, ".cache", "threads");
}

/** The bundle of `entry` (a path relative to the root) and its list of inputs with their hashes. */
export function bundlePaths(entry, dir = threadBundleDir()) {
  const base = path.join(dir, entry.replace(/\.ts$/, ""));
  return { bundle: `${base}.mjs`, manifest: `${base}.inputs.json` };
}

export const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * The bundle of `entryFile` (absolute path) when it was built from the sources as they are now,
 * else undefined (not built, or an input changed since: the caller runs the TypeScript instead).
 */
export function freshBundle(entryFile, dir = threadBundleDir()) {
  const entry = path.relative(repoRoot, entryFile);
  const { bundle, manifest } = bundlePaths(entry, dir);
  if (!existsSync(bundle) || !existsSync(manifest)) return undefined;
  try {
    const { inputs } = JSON.parse(readFileSync(manifest, "utf8"));
    for (const [input, hash] of Object.entries(inputs)) {
      if (sha256(path.join(repoRoot, input)) !== hash) return undefined;
    }
    return bundle;
  } catch {
    return undefined; // an input gone or an unreadable manifest: not fresh
  }
}
