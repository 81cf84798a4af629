import { MODULES } from "./modules.mjs";

// One module per run (MUTATION_MODULE), started by scripts/mutation/run.mjs (`npm run mutation`).
const name = process.env.MUTATION_MODULE;
const module = MODULES[name];
if (!module) throw new Error(`MUTATION_MODULE must be one of ${Object.keys(MODULES).join(", ")}`);
const out = ".cache/mutation";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "scripts/mutation/vitest.config.mjs", related: false },
  mutate: module.mutate,
  coverageAnalysis: "perTest",
  // 2 cores shared with everyone else on the machine
  concurrency: 1,
  incremental: true,
  incrementalFile: `${out}/${name}.incremental.json`,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `${out}/${name}.html` },
  jsonReporter: { fileName: `${out}/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: ".cache/stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: [
    ".cache",
    ".data",
    "apps/web",
    "bench",
    "terraform",
    "test-results",
    "playwright-report",
  ],
  timeoutMS: 20_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 80, break: null },
};
