// Generates the Prisma client after install. `prisma generate` never calls the schema engine,
// and the native engine cannot be downloaded offline, so point the CLI at a no-op binary here only.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const prismaBin = "node_modules/prisma/build/index.js";
if (!existsSync(prismaBin)) process.exit(0);
const result = spawnSync(
  process.execPath,
  [prismaBin, "generate", "--schema", "prisma/schema.prisma"],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  },
);
if (result.status !== 0) process.exit(result.status ?? 1);

// The worker threads' JavaScript (packages/contracts/src/thread-bundles.ts), once the Prisma client
// they may import exists; without it (or with stale sources) the threads run through tsx.
const bundled = spawnSync(
  process.execPath,
  ["--import", "tsx", "packages/contracts/src/cli/build-threads.ts"],
  { stdio: "inherit" },
);
process.exit(bundled.status ?? 1);
