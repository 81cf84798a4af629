import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

const ENV_MESSAGE =
  "Read the environment in the app's src/env.ts (zod) and pass values down (allow-list: eslint.config.js).";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      "**/generated/**",
      ".data/**",
      ".cache/**",
      "data/**",
      "**/next-env.d.ts",
      "test-results/**",
      "playwright-report/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@reco/*/src/*", "../../packages/*", "../../apps/*"],
              message: "Import a package through its exports, not its files.",
            },
          ],
        },
      ],
      // create-t3-turbo's rule: the environment is parsed once, at a composition root.
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: ENV_MESSAGE },
      ],
    },
  },
  {
    // Where process.env may be read, and why.
    files: [
      // Each app's one parsed environment (zod): main.ts and prepare-demo.ts take it from here.
      "apps/*/src/env.ts",
      // The CLIs' entries (npm run db:migrate / import / train / keys / rollout) hand process.env
      // to the parser or to main(argv, env), which tests call with their own.
      "packages/*/src/cli/**",
      // Process launchers, benchmarks and tests configure the processes they start.
      "scripts/**",
      "**/bench/**",
      "**/test/**",
      "**/*.test.ts",
      "apps/web/e2e/**",
      // Test infrastructure: private PostgreSQL/Redis/Kafka instances inherit the test's
      // environment, and KAFKA_LIBS_DIR says where Kafka is installed.
      "packages/testkit/src/**",
      // Where the apps' and worker threads' built JavaScript lies (THREAD_BUNDLE_DIR): read where an
      // app or a thread starts, in any process (apps, CLIs, tests), set by tests and benchmarks only.
      "packages/contracts/src/bundle-freshness.mjs",
      // Writes (does not read) ORT_DISABLE_TELEMETRY: onnxruntime's native code reads the process
      // environment, which no value passed down reaches.
      "packages/contracts/src/onnxruntime-telemetry.ts",
      // Tool configs, evaluated by their tools (Playwright, Next.js, Prisma), not by our code.
      "apps/web/playwright.config.ts",
      "apps/web/next.config.ts",
      "prisma.config.ts",
    ],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The dashboard's browser code imports this file (@reco/experiments/metrics): whatever it
    // imported at runtime would be bundled for the browser.
    files: ["packages/experiments/src/metrics.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["*"],
              allowTypeImports: true,
              message: "Bundled into the dashboard: type imports only.",
            },
          ],
        },
      ],
    },
  },
  prettier,
);
