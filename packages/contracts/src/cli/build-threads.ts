/**
 * Builds the worker threads' JavaScript bundles (see thread-bundles.ts): run after `npm ci`
 * (scripts/postinstall.mjs), by `npm start` and in the container images, so no thread registers
 * tsx at run time.
 */
import path from "node:path";
import { buildThreadBundles, repoRoot, threadBundleDir } from "../thread-bundles.ts";

const started = performance.now();
const built = await buildThreadBundles();
process.stdout.write(
  `worker threads bundled: ${built.length} in ${path.relative(repoRoot, threadBundleDir()) || "."} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
);
