/**
 * Builds the apps' and worker threads' JavaScript bundles (see thread-bundles.ts): run after
 * `npm ci` (scripts/postinstall.mjs), by `npm start` and in the container images, so neither the
 * apps (started through scripts/run.mjs) nor their threads register tsx at run time.
 */
import path from "node:path";
import {
  BUNDLED_ENTRIES,
  buildThreadBundles,
  freshBundle,
  repoRoot,
  threadBundleDir,
} from "../thread-bundles.ts";

const started = performance.now();
// Only what a source change made stale: a second `npm start` rebuilds nothing.
const stale = BUNDLED_ENTRIES.filter((entry) => !freshBundle(path.join(repoRoot, entry)));
const built = stale.length ? await buildThreadBundles(stale) : [];
process.stdout.write(
  `apps and worker threads bundled: ${built.length} rebuilt, ${BUNDLED_ENTRIES.length - built.length} up to date in ${path.relative(repoRoot, threadBundleDir()) || "."} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
);
