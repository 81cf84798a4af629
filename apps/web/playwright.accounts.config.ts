import base from "./playwright.config.ts";
import { defineConfig } from "@playwright/test";

// Runs only the accounts spec (`npx playwright test -c playwright.accounts.config.ts`), on the same
// product start as the full suite.
export default defineConfig({
  ...base,
  projects: [{ name: "accounts", testMatch: /accounts\.spec\.ts/ }],
});
