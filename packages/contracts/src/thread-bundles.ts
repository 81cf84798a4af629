import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  bundlePaths,
  freshBundle,
  repoRoot,
  sha256,
  threadBundleDir,
} from "./bundle-freshness.mjs";

export { bundlePaths, freshBundle, repoRoot, threadBundleDir };

/** Every module the product starts as a worker thread (through `typeScriptWorker`). */
export const THREAD_ENTRIES = [
  "packages/serving/src/inference-thread-entry.ts",
  "packages/stream/src/validation-entry.ts",
  "packages/bus/src/file-log/writer-thread-entry.ts",
  "packages/ml/src/retrain/job-thread.ts",
  "packages/ml/src/models/ials/worker.ts",
] as const;

/**
 * The apps' own entries, run from their bundles by scripts/run.mjs (`npm start`, the images): no
 * tsx in the process (its loader thread and the transpiled sources it keeps cost ~50 MB).
 */
export const APP_ENTRIES = ["apps/api/src/main.ts", "apps/stream-worker/src/main.ts"] as const;

/** Everything `npm ci` and `npm start` bundle. */
export const BUNDLED_ENTRIES = [...THREAD_ENTRIES, ...APP_ENTRIES] as const;

interface Manifest {
  /** input path relative to the root → sha256 of its content when bundled */
  inputs: Record<string, string>;
}

/** `zod` of `zod/mini`, `@scope/name` of `@scope/name/sub`; undefined for node: builtins. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!))
    return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The directory of the package `name` as Node finds it from `file` (nearest node_modules up). */
function installedFrom(file: string, name: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(candidate)) return realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Bundles each entry with the workspace's own TypeScript (@reco/* and relative imports) into one
 * ES module; every other package stays an import resolved at run time from node_modules. Each
 * file's `import.meta.url` keeps its source file's URL, so paths built from it (a sibling thread's
 * entry, a WebAssembly file, createRequire) resolve as they do when run by tsx.
 */
export async function buildThreadBundles(
  entries: readonly string[] = BUNDLED_ENTRIES,
  dir = threadBundleDir(),
): Promise<string[]> {
  const esbuild = await import("esbuild");
  const built: string[] = [];
  for (const entry of entries) {
    const { bundle, manifest } = bundlePaths(entry, dir);
    const result = await esbuild.build({
      entryPoints: [path.join(repoRoot, entry)],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      metafile: true,
      absWorkingDir: repoRoot,
      logLevel: "error",
      plugins: [
        {
          name: "workspace-only",
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (args) => {
              if (args.path.startsWith("@reco/")) return undefined;
              // The bundle imports it from its own directory: it must find the same package there.
              const name = packageName(args.path);
              if (name && installedFrom(args.importer, name) !== installedFrom(bundle, name))
                return {
                  errors: [{ text: `${name} resolves differently from ${bundle}: not bundled` }],
                };
              return { path: args.path, external: true };
            });
            build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
              const values = {
                url: pathToFileURL(args.path).href,
                dirname: path.dirname(args.path),
                filename: args.path,
              };
              // Code, not a quoted mention of it (as in this very file).
              const contents = readFileSync(args.path, "utf8").replace(
                /(?<!["'`])\bimport\.meta\.(url|dirname|filename)\b/g,
                (_, key: keyof typeof values) => JSON.stringify(values[key]),
              );
              const loader = args.path.endsWith("ts") ? "ts" : "js";
              return { contents, loader };
            });
          },
        },
      ],
    });
    const inputs: Manifest["inputs"] = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = path.resolve(repoRoot, input);
      inputs[path.relative(repoRoot, file)] = sha256(file);
    }
    mkdirSync(path.dirname(manifest), { recursive: true });
    writeFileSync(manifest, JSON.stringify({ inputs } satisfies Manifest, null, 1));
    built.push(bundle);
  }
  return built;
}
