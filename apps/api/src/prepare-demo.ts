import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModelVersionStore, openDatabase, type OpenDbOptions } from "@reco/db";
import { ExperimentService } from "@reco/experiments/store";
import { importMovieLens } from "@reco/importer";
import { AccountStore, ApiKeyStore, ensureDemoAccounts, ensureDevApiKey } from "@reco/serving";
import { loadPrepareEnv } from "./env.ts";

/*
 * Preparation, run by `npm start` before the api: applies migrations, loads the demo data when the
 * database is empty, and trains the demo models when none is stable yet (an iALS version promoted
 * to stable, an item-kNN candidate beside it; each evaluated on a held-out split, then refit on all
 * the data). Runs in its own process because PGlite allows one process per data directory, and
 * finishes before the api opens it. `--dev-key FILE` (real services, not production): makes sure
 * a development admin key exists and is saved in FILE, as the embedded api does for itself.
 * Last, the demo experiment (iALS vs item-kNN on click-through; DEMO_EXPERIMENT=0: none) is
 * created and started when no experiment of that key exists yet, so the A/B panel fills with the
 * traffic of the simulator `npm start` runs; a second start finds it and leaves it as it is.
 */
const DEMO_MODELS = [
  { kind: "ials", name: "ials-demo", stable: true },
  { kind: "item-knn", name: "item-knn-demo", stable: false },
] as const;
/** The experiment a fresh start creates and starts (see ensureDemoExperiment). */
const DEMO_EXPERIMENT = "demo-ials-vs-item-knn";
const env = loadPrepareEnv();
const { values: options } = parseArgs({ options: { "dev-key": { type: "string" } } });

const started = performance.now();
/**
 * The embedded database may still be held by a previous api that is closing it (a restart right
 * after a stop): wait for it, up to a minute, instead of failing.
 */
const LOCK_WAIT_MS = 60_000;
const databaseOptions: OpenDbOptions = {
  databaseUrl: env.DATABASE_URL,
  dataDir: env.DATA_DIR,
  lock: {
    waitMs: LOCK_WAIT_MS,
    onWait: (owner, waitMs) =>
      process.stdout.write(
        `[prepare] the embedded database is still held by process ${owner} (a previous api stopping?); waiting up to ${waitMs / 1000} s\n`,
      ),
  },
};
const db = await openDatabase(databaseOptions);
try {
  const items = await db.prisma.item.count();
  if (items > 0) {
    process.stdout.write(`[prepare] database ready (${items} items), demo data already imported\n`);
  } else {
    process.stdout.write(
      `[prepare] empty database: importing the demo data from ${env.DEMO_DATA_DIR}\n`,
    );
    const report = await importMovieLens({
      prisma: db.prisma,
      snapshotsRoot: path.join(env.DATA_DIR, "snapshots"),
      moviesPath: path.join(env.DEMO_DATA_DIR, "movies.csv"),
      ratingsPath: path.join(env.DEMO_DATA_DIR, "ratings.csv"),
    });
    process.stdout.write(
      `[prepare] imported ${report.movies.stored} movies, ${report.ratings.stored} ratings, ${report.newUsers} users` +
        ` (${report.problems.length} rows skipped) in ${report.seconds.toFixed(1)} s\n`,
    );
  }
  const devKeyFile = options["dev-key"];
  if (devKeyFile) await ensureDevKey(new ApiKeyStore(db.prisma), devKeyFile);
  // One account per role for people to sign in with; the passwords go to this file only (0600),
  // which the launcher's banner prints: never to the log.
  const accountsFile = path.join(env.DATA_DIR, "demo-accounts.txt");
  const demoAccounts = await ensureDemoAccounts(new AccountStore(db.prisma), accountsFile);
  process.stdout.write(
    `[prepare] demo accounts ${demoAccounts.map((account) => account.email).join(", ")}: passwords in ${accountsFile}\n`,
  );
} finally {
  await db.close();
}

const stableBefore = await countStable();
if (stableBefore > 0) {
  process.stdout.write(`[prepare] ${stableBefore} stable model version(s) registered\n`);
} else {
  for (const model of DEMO_MODELS) {
    process.stdout.write(`[prepare] training the demo ${model.kind} model (${model.name})\n`);
    const trainingStarted = performance.now();
    // The training CLI opens the embedded database itself, so this process holds it closed meanwhile.
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "packages/ml/src/cli/main.ts",
        "train",
        "--model",
        model.kind,
        "--name",
        model.name,
        "--snapshots",
        path.join(env.DATA_DIR, "snapshots"),
        "--fit-on",
        env.DEMO_FIT_ON,
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (result.status !== 0) {
      process.stderr.write(
        `[prepare] training ${model.name} failed (exit ${result.status}); serving falls back to popularity\n`,
      );
    } else {
      process.stdout.write(
        `[prepare] ${model.name} trained in ${((performance.now() - trainingStarted) / 1000).toFixed(1)} s (served version fitted on ${env.DEMO_FIT_ON === "all" ? "all the ratings" : "the split's train side"})\n`,
      );
    }
  }
  await promoteDemoModel();
}

if (env.DEMO_EXPERIMENT === "1") await ensureDemoExperiment();

/**
 * A development admin key saved in `file`: the key saved there before (registered again if this
 * database lacks it), or a new one when the database holds no key yet. A database that already
 * has keys (someone else's) gets none unasked: the message says how to make one.
 */
async function ensureDevKey(keys: ApiKeyStore, file: string): Promise<void> {
  const saved = await readFile(file, "utf8").then(
    (text) => text.trim(),
    () => "",
  );
  if (!saved && (await keys.list()).length > 0) {
    process.stdout.write(
      "[prepare] the database already holds API keys: no development key created (npm run keys -- create --role admin makes one)\n",
    );
    return;
  }
  const key = await ensureDevApiKey(keys, file);
  // The key itself stays out of logs: only its public prefix and where it is saved.
  process.stdout.write(
    `[prepare] development API key (admin): ${key.split("_").slice(0, 2).join("_")}_… saved in ${file}\n`,
  );
}

async function countStable(): Promise<number> {
  const handle = await openDatabase({ ...databaseOptions, migrate: false });
  try {
    return await new ModelVersionStore(handle.prisma).countByStage("stable");
  } finally {
    await handle.close();
  }
}

async function promoteDemoModel(): Promise<void> {
  const handle = await openDatabase({ ...databaseOptions, migrate: false });
  try {
    const models = new ModelVersionStore(handle.prisma);
    const names = new Set<string>(
      DEMO_MODELS.filter((model) => model.stable).map((model) => model.name),
    );
    // the version the training above just recorded (highest id among the stable demo models)
    const [newest] = (await models.list())
      .filter((v) => names.has(v.name))
      .sort((a, b) => b.id - a.id);
    if (!newest) return;
    const promoted = await models.setStage({ id: newest.id }, "stable", {
      by: "demo",
      reason: "demo model promoted on first start",
    });
    process.stdout.write(
      `[prepare] ${promoted.name} ${promoted.version} is now the stable version\n`,
    );
  } finally {
    await handle.close();
  }
}
/**
 * The demo experiment, created and started once: half of the users get the stable iALS (control),
 * half the item-kNN candidate, judged on click-through. Skipped when an experiment of its key
 * exists (whatever its status: a stopped or concluded one stays so) or a demo model is missing.
 */
async function ensureDemoExperiment(): Promise<void> {
  const handle = await openDatabase({ ...databaseOptions, migrate: false });
  try {
    const experiments = new ExperimentService(handle.prisma);
    if (await handle.prisma.experiment.findUnique({ where: { key: DEMO_EXPERIMENT } })) {
      process.stdout.write(`[prepare] demo experiment ${DEMO_EXPERIMENT} already exists\n`);
      return;
    }
    const versions = await new ModelVersionStore(handle.prisma).list();
    const newest = (name: string) =>
      versions.filter((v) => v.name === name).sort((a, b) => b.id - a.id)[0];
    const [ials, knn] = DEMO_MODELS.map((model) => newest(model.name));
    if (!ials || !knn) {
      process.stdout.write(
        `[prepare] demo experiment not created: a demo model version is missing (${DEMO_MODELS.map((m) => m.name).join(", ")})\n`,
      );
      return;
    }
    await experiments.create({
      key: DEMO_EXPERIMENT,
      hypothesis:
        "item-kNN earns a different click-through than iALS (demo experiment, fed by the traffic simulator)",
      owner: "demo",
      variants: [
        { name: "ials", weight: 50, isControl: true, modelVersionId: ials.id },
        { name: "item-knn", weight: 50, modelVersionId: knn.id },
      ],
      primaryMetric: "click_through",
    });
    await experiments.start(DEMO_EXPERIMENT);
    process.stdout.write(
      `[prepare] demo experiment ${DEMO_EXPERIMENT} started: ${ials.name} ${ials.version} (control) vs ${knn.name} ${knn.version} on click-through\n`,
    );
  } finally {
    await handle.close();
  }
}
process.stdout.write(`[prepare] done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
