import base from "./playwright.config.ts";
import { defineConfig } from "@playwright/test";

// Runs only the new user's journey (`npx playwright test -c playwright.journey.config.ts`). The
// journey starts its own product in a copy of the checkout, so the shared product the full suite
// starts (webServer) is left out here.
export default defineConfig({
  ...base,
  webServer: undefined,
  projects: base.projects!.filter((project) => project.name === "journey"),
});
