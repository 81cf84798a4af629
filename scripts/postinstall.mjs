// Applies patches/ and generates the Prisma client after install. `prisma generate` never calls the
// schema engine, and the native engine cannot be downloaded offline, so point the CLI at a no-op
// binary here only.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// Fixes to dependencies, from patches/ (each says why in its diff): applied first, and a patch
// that no longer applies fails the install rather than running the dependency unfixed.
const patchPackage = "node_modules/patch-package/index.js";
if (existsSync(patchPackage)) {
  const patched = spawnSync(process.execPath, [patchPackage, "--error-on-fail"], {
    stdio: "inherit",
  });
  if (patched.status !== 0) process.exit(patched.status ?? 1);
}

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
