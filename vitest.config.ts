import { defineConfig } from "vitest/config";

// One runner for every workspace; integration suites read service URLs from the environment
// that scripts/test.sh exports after scripts/services.sh has started the real services.
export default defineConfig({
  test: {
    include: ["{apps,packages}/*/{src,test}/**/*.test.ts", "deploy/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "apps/web/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
