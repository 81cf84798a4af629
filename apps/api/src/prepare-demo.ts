import path from "node:path";
import { z } from "zod";
import { envFields, loadEnvOrExit } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { importMovieLens } from "@reco/importer";

/*
 * Embedded-mode preparation, run by `npm start` before the api: applies migrations and loads the
 * demo data when the database is empty. Runs in its own process because PGlite allows one process
 * per data directory, and finishes before the api opens it.
 */
const env = loadEnvOrExit(
  z.object({
    DATABASE_URL: envFields.databaseUrl,
    DATA_DIR: envFields.dataDir,
    DEMO_DATA_DIR: z.string().default("data/ml-latest-small"),
  }),
);

const started = performance.now();
const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
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
} finally {
  await db.close();
}
process.stdout.write(`[prepare] done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
