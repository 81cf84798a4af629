/**
 * `npm run retrain -- <command>`: `trigger` queues a retraining run now (and, when no scheduler
 * holds the lease, runs it in this process until it ends); `status` lists recent runs. The only
 * place this package reads the environment (DATABASE_URL, DATA_DIR, RETRAIN_*).
 * With the embedded database (no DATABASE_URL) in use by the api, PGlite's one process is the
 * api's: the command says to use the dashboard or tRPC instead. Exit 2 for usage, 1 otherwise.
 */
import path from "node:path";
import { envFields, loadEnvOrExit } from "@reco/contracts";
import { storageEnvFields } from "@reco/storage/env";
import { openDatabase, type Database } from "@reco/db";
import { pino } from "pino";
import { z } from "zod";
import { retrainingConfigFromEnv, retrainingEnvFields } from "../env.ts";
import { RetrainingRuns, type RetrainingRunView } from "../runs.ts";
import { RetrainingScheduler } from "../scheduler.ts";

const USAGE = `usage: npm run retrain -- trigger [--wait]   queue a run now (run it here when no scheduler is live)
       npm run retrain -- status              recent runs
environment: DATABASE_URL (else the embedded database in DATA_DIR/pg), DATA_DIR, RETRAIN_MODEL, RETRAIN_PARAMS, …, S3_ENDPOINT, S3_BUCKET, … (snapshots and versions in a bucket)`;

const env = loadEnvOrExit(
  z.object({
    DATABASE_URL: envFields.databaseUrl,
    DATA_DIR: envFields.dataDir,
    ...retrainingEnvFields,
    ...storageEnvFields,
  }),
  process.env,
);
const dataDir = path.resolve(env.DATA_DIR);

function line(run: RetrainingRunView): string {
  const progress = run.progress === null ? "" : ` ${Math.round(run.progress * 100)} %`;
  const version = run.version
    ? ` → ${run.version.name} ${run.version.version} (${run.version.stage})`
    : "";
  const error = run.error ? ` — ${run.error}` : "";
  return `#${run.id} ${run.status} ${run.trigger ?? ""} ${run.kind || "?"} ${run.phase ?? ""}${progress}${version}${error}`;
}

async function open(): Promise<Database> {
  try {
    return await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir });
  } catch (error) {
    if (!env.DATABASE_URL && (error as Error).name === "DatabaseLocked") {
      process.stderr.write(
        `the embedded database in ${path.join(dataDir, "pg")} is in use (by the api: PGlite allows one process).\n` +
          `Retrain through the api instead: the dashboard's Retraining page ("Retrain now") or the tRPC mutation retraining.trigger (engineer key).\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== "trigger" && command !== "status") {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const wait = rest.includes("--wait");
  const unknown = rest.filter((arg) => arg !== "--wait");
  if (unknown.length || (command === "status" && wait)) {
    process.stderr.write(`unknown argument ${unknown[0] ?? "--wait"}\n${USAGE}\n`);
    return 2;
  }
  const db = await open();
  try {
    const runs = new RetrainingRuns(db.prisma, { intervalMs: env.RETRAIN_INTERVAL });
    if (command === "status") {
      const list = await runs.list(20);
      process.stdout.write(
        list.length ? `${list.map(line).join("\n")}\n` : "no retraining runs yet\n",
      );
      return 0;
    }
    const { run, queued } = await runs.trigger({ by: `cli:${process.env.USER ?? "?"}` });
    process.stdout.write(
      queued ? `queued run #${run.id}\n` : `a run is already ${run.status}: #${run.id}\n`,
    );
    const status = await runs.status();
    if (status.scheduler?.live) {
      process.stdout.write(`the scheduler ${status.scheduler.holder} runs it\n`);
      if (!wait) return 0;
      for (;;) {
        const now = await runs.get(run.id);
        if (now && (now.status === "succeeded" || now.status === "failed")) {
          process.stdout.write(`${line(now)}\n`);
          return now.status === "succeeded" ? 0 : 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
    // No live scheduler: this process takes the lease and runs the queue's first run itself.
    const scheduler = new RetrainingScheduler(
      db.prisma,
      retrainingConfigFromEnv(
        { ...env, RETRAIN_INTERVAL: null },
        {
          snapshotsDir: path.join(dataDir, "snapshots"),
          registryDir: path.join(dataDir, "registry"),
        },
      ),
      { logger: pino({ level: "warn" }) },
    );
    const tick = await scheduler.tick();
    if (!tick.leader || tick.started === null) {
      process.stdout.write(
        "another scheduler took the run over; follow it with `npm run retrain -- status`\n",
      );
      return 0;
    }
    process.stdout.write(`running #${tick.started} here\n`);
    const heartbeat = setInterval(() => void scheduler.tick().catch(() => undefined), 5_000);
    const outcome = await scheduler.running!;
    clearInterval(heartbeat);
    await scheduler.stop();
    const finished = await runs.get(outcome.runId);
    process.stdout.write(`${finished ? line(finished) : outcome.status}\n`);
    return outcome.status === "succeeded" ? 0 : 1;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`retrain: ${error.message}\n`);
    process.exit(1);
  },
);
