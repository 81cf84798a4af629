import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

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
    },
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
