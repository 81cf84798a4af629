/**
 * Builds the worker threads' JavaScript bundles (see thread-bundles.ts): run after `npm ci`
 * (scripts/postinstall.mjs), by `npm start` and in the container images, so no thread registers
 * tsx at run time.
 */
import path from "node:path";
import {
  THREAD_ENTRIES,
  buildThreadBundles,
  freshBundle,
  repoRoot,
  threadBundleDir,
} from "../thread-bundles.ts";

const started = performance.now();
// Only what a source change made stale: a second `npm start` rebuilds nothing.
const stale = THREAD_ENTRIES.filter((entry) => !freshBundle(path.join(repoRoot, entry)));
const built = stale.length ? await buildThreadBundles(stale) : [];
process.stdout.write(
  `worker threads bundled: ${built.length} rebuilt, ${THREAD_ENTRIES.length - built.length} up to date in ${path.relative(repoRoot, threadBundleDir()) || "."} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
);
