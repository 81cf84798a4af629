import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { MODULES } from "./modules.mjs";

// The vitest config Stryker runs in its sandbox (a copy of the repository). Workspace packages are
// symlinked in node_modules to the ORIGINAL tree, so `@reco/x` is aliased to this copy's sources:
// otherwise a test importing a package by name would test the unmutated original.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const name = process.env.MUTATION_MODULE;
const module = MODULES[name];
if (!module) throw new Error(`MUTATION_MODULE must be one of ${Object.keys(MODULES).join(", ")}`);

const alias = [];
for (const dir of readdirSync(path.join(root, "packages"))) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, "packages", dir, "package.json"), "utf8"));
  } catch {
    continue;
  }
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const specifier = subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    alias.push({
      find: new RegExp(`^${specifier.replace(/[/.]/g, "\\$&")}$`),
      replacement: path.join(root, "packages", dir, target),
    });
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    root,
    include: module.tests,
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
  },
});
