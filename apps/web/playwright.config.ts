import path from "node:path";
import { defineConfig } from "@playwright/test";

// The e2e suite drives the real product as `npm start` runs it (embedded mode), on its own ports and
// data directory, in the system Chromium (Playwright's own browser download is unavailable offline).
const root = path.resolve(import.meta.dirname, "../..");
const apiPort = Number(process.env.E2E_API_PORT || 4310);
const webPort = Number(process.env.E2E_WEB_PORT || 3310);
const dataDir = process.env.E2E_DATA_DIR || path.join(root, ".cache", "e2e-data");
// Each run starts from the demo data as `npm start` first imports it: the specs that write leave
// experiments, a retrained candidate and feedback behind, which the reading specs of a second run
// would see. E2E_KEEP_DATA=1 reuses the product of the run before (a quicker start, not for the
// whole suite).
const keepData = process.env.E2E_KEEP_DATA === "1";
const clearData = `node -e "require('node:fs').rmSync(process.argv[1], { recursive: true, force: true })" ${JSON.stringify(dataDir)}`;

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [
    ["list"],
    ["json", { outputFile: path.join(root, ".cache", "playwright-report.json") }],
  ],
  // Specs that only read see the demo data as imported; specs that write (experiments, feedback)
  // run after them against the same product.
  projects: [
    {
      name: "reads",
      testMatch:
        /(overview|models|monitoring|security-headers|recommendations|screenshots|layout)\.spec\.ts/,
    },
    {
      name: "writes",
      testMatch: /(experiments|feedback-loop|rollouts|retraining)\.spec\.ts/,
      dependencies: ["reads"],
    },
    {
      // Signed-in accounts last: the viewer visits every page, the experiments and rollouts the
      // specs before left among them, and must find no action button on any.
      name: "accounts",
      testMatch: /accounts\.spec\.ts/,
      dependencies: ["writes"],
    },
    {
      // The new user's journey starts its own product in a copy of the checkout (its own ports and
      // data directory): it neither reads nor writes the shared one.
      name: "journey",
      testMatch: /journey\.spec\.ts/,
    },
  ],
  use: {
    baseURL: `http://127.0.0.1:${webPort}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: keepData ? "node scripts/start.mjs" : `${clearData} && node scripts/start.mjs`,
    cwd: root,
    // Ready when a tRPC call through the dashboard's proxy reaches the api (200, or 401 without a
    // key), not when the dashboard alone answers: on a second start (build and key reused) the
    // launcher starts the dashboard beside the api, and a first sign-in sent before the api listened
    // failed with ECONNREFUSED (the proxy's 503 keeps Playwright waiting).
    url: `http://127.0.0.1:${webPort}/api/trpc/session.whoami`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      PORT: String(apiPort),
      WEB_PORT: String(webPort),
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      REDIS_URL: "",
      KAFKA_BROKERS: "",
      // Embedded defaults as `npm start` has them: no bucket either (npm test exports S3_* for
      // the object-storage suites; the models page reads versions from DATA_DIR).
      S3_ENDPOINT: "",
      S3_BUCKET: "",
      // Feedback reaches the snapshots within seconds instead of the default 30 s.
      STREAM_BATCH_INTERVAL_MS: "1000",
      // The specs read the demo data as imported and serve the stable version: no simulator
      // traffic, no demo experiment.
      SIMULATE: "0",
      DEMO_EXPERIMENT: "0",
      // "Retrain now" trains the stable iALS in seconds: few epochs and factors.
      RETRAIN_PARAMS: "epochs=2,factors=16",
    },
  },
});
