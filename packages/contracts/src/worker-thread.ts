import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

let tsxApi: string | undefined;

/** The file URL of tsx's ESM API, resolved once. */
function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (
    require(manifest) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  tsxApi = pathToFileURL(
    path.join(path.dirname(manifest), exports["./esm/api"]!.import.default),
  ).href;
  return tsxApi;
}

/**
 * A worker thread running a TypeScript module. On Node 20, tsx's `--import` hooks are not installed
 * in worker threads (execArgv alone fails with ERR_UNKNOWN_FILE_EXTENSION), so a tiny bootstrap
 * registers tsx's ESM API inside the thread and then imports `entry`.
 */
export function typeScriptWorker(entry: URL, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
