// Runs an app's entry in this process: from its bundle when that was built from the sources as they
// are now (npm ci, npm start: packages/contracts/src/cli/build-threads.ts), else through tsx.
//   node scripts/run.mjs apps/api/src/main.ts
// The bundle spares the process tsx's loader thread and the transpiled sources it keeps (~50 MB at
// rest), and its start-up transpiling.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { freshBundle, repoRoot } from "../packages/contracts/src/bundle-freshness.mjs";

const entry = process.argv[2];
if (!entry) {
  process.stderr.write("usage: node scripts/run.mjs <entry.ts> [arguments…]\n");
  process.exit(2);
}
const entryFile = path.resolve(repoRoot, entry);
process.argv.splice(2, 1); // the app sees its own arguments only
const bundle = freshBundle(entryFile);
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  process.stderr.write(
    `[run] ${entry}: no bundle built from the current sources, running it through tsx\n`,
  );
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(entryFile).href);
}
