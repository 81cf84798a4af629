/**
 * First-load JS per route of the dashboard, read from the output of `next build` (Next 16 no longer
 * prints it): for each app route, the gzip size of every script its HTML loads before hydration —
 * the root main files shared by all routes plus the entry chunks of the route's layouts and page
 * (from its client reference manifest). Prints a table; exits 1 when a route exceeds the budget.
 *
 * Usage (after `next build`): npx tsx apps/web/scripts/first-load.ts [--budget-kb 250] [--next-dir apps/web/.next]
 */
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import zlib from "node:zlib";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const budgetKb = Number(option("--budget-kb") ?? 250);
const nextDir = path.resolve(option("--next-dir") ?? path.join(import.meta.dirname, "..", ".next"));

function fail(message: string): never {
  console.error(`[first-load] ${message}`);
  process.exit(2);
}

function readJson<T>(file: string): T {
  const full = path.join(nextDir, file);
  if (!fs.existsSync(full)) fail(`${full} is missing: run \`next build\` in apps/web first`);
  try {
    return JSON.parse(fs.readFileSync(full, "utf8")) as T;
  } catch (error) {
    fail(`${full} is not valid JSON: ${(error as Error).message}`);
  }
}

const buildManifest = readJson<{ rootMainFiles: string[]; polyfillFiles?: string[] }>(
  "build-manifest.json",
);
const appRoutes = readJson<Record<string, string>>("app-path-routes-manifest.json");

/** The client reference manifest of one app entry ("/monitoring/page"): a script assigning a global. */
function entryFiles(entry: string): string[] {
  const file = path.join(nextDir, "server", "app", `${entry}_client-reference-manifest.js`);
  if (!fs.existsSync(file)) return [];
  const sandbox: {
    globalThis?: unknown;
    __RSC_MANIFEST?: Record<string, { entryJSFiles?: Record<string, string[]> }>;
  } = {};
  sandbox.globalThis = sandbox;
  vm.runInNewContext(fs.readFileSync(file, "utf8"), sandbox, { filename: file });
  const manifest = sandbox.__RSC_MANIFEST?.[entry];
  if (!manifest?.entryJSFiles) fail(`${file} has no entryJSFiles for ${entry}`);
  return Object.values(manifest.entryJSFiles).flat();
}

const gzipCache = new Map<string, number>();
function gzipBytes(file: string): number {
  let size = gzipCache.get(file);
  if (size === undefined) {
    const full = path.join(nextDir, file);
    if (!fs.existsSync(full)) fail(`chunk ${full} listed by the build is missing`);
    size = zlib.gzipSync(fs.readFileSync(full), { level: 9 }).length;
    gzipCache.set(file, size);
  }
  return size;
}

const shared = buildManifest.rootMainFiles.filter((file) => file.endsWith(".js"));
const sharedBytes = shared.reduce((sum, file) => sum + gzipBytes(file), 0);

const rows = Object.entries(appRoutes)
  .filter(([entry]) => entry.endsWith("/page"))
  .map(([entry, route]) => {
    const files = new Set([...shared, ...entryFiles(entry).filter((file) => file.endsWith(".js"))]);
    const bytes = [...files].reduce((sum, file) => sum + gzipBytes(file), 0);
    return { route, bytes };
  })
  .sort((a, b) => a.route.localeCompare(b.route));

const kb = (bytes: number) => (bytes / 1000).toFixed(1);
const width = Math.max(...rows.map((row) => row.route.length), 5);
console.log(`${"route".padEnd(width)}  first-load JS (gzip, kB)  budget ${budgetKb} kB`);
for (const row of rows) {
  const over = row.bytes > budgetKb * 1000;
  console.log(
    `${row.route.padEnd(width)}  ${kb(row.bytes).padStart(8)}${over ? "  OVER BUDGET" : ""}`,
  );
}
console.log(`${"(shared by all)".padEnd(width)}  ${kb(sharedBytes).padStart(8)}`);
// Loaded only by browsers without ES modules (a `noModule` script), so not part of the figures.
const polyfills = (buildManifest.polyfillFiles ?? []).filter((file) => file.endsWith(".js"));
const polyfillBytes = polyfills.reduce((sum, file) => sum + gzipBytes(file), 0);
console.log(
  `${"(noModule polyfills, legacy browsers only, not counted)".padEnd(width)}  ${kb(polyfillBytes).padStart(8)}`,
);

const over = rows.filter((row) => row.bytes > budgetKb * 1000);
if (over.length) {
  console.error(
    `[first-load] ${over.length} route(s) over ${budgetKb} kB: ${over.map((row) => row.route).join(", ")}`,
  );
  process.exit(1);
}
