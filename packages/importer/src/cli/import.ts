import path from "node:path";
import cliProgress from "cli-progress";
import { z } from "zod";
import { envFields, loadEnvOrExit, parseCliFlags } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { ImportError, importMovieLens, type ImportReport } from "../index.ts";

const HELP = `Usage: npm run import -- [--dir DIR] [--movies FILE] [--ratings FILE] [--json] [--show N]

Loads a MovieLens catalog (movies.csv) into the database and its ratings (ratings.csv) as rate
events into the Parquet snapshot store ($DATA_DIR/snapshots). Bad rows are skipped and reported
with file and line; rows already stored are not stored again, so a second run adds nothing.
  --dir DIR       folder holding movies.csv and ratings.csv (default data/ml-latest-small)
  --movies FILE   catalog file (default DIR/movies.csv)
  --ratings FILE  ratings file (default DIR/ratings.csv)
  --json          print the full report as JSON instead of the summary
  --show N        how many skipped rows to list (default 20)
Database: PostgreSQL when DATABASE_URL is set, else embedded PGlite in $DATA_DIR/pg (default .data).
`;

const env = loadEnvOrExit(
  z.object({ DATABASE_URL: envFields.databaseUrl, DATA_DIR: envFields.dataDir }),
  process.env,
);

function printSummary(report: ImportReport, show: number): void {
  const out = process.stdout;
  out.write(`\nImported in ${report.seconds.toFixed(1)} s\n`);
  out.write(`  file           rows      stored  already stored  skipped\n`);
  for (const file of [report.movies, report.ratings]) {
    out.write(
      `  ${file.file.padEnd(12)} ${String(file.rows).padStart(7)} ${String(file.stored).padStart(10)} ${String(file.alreadyStored).padStart(15)} ${String(file.skipped).padStart(8)}\n`,
    );
  }
  out.write(`  new users: ${report.newUsers}\n`);
  if (report.problems.length) {
    out.write(`\nSkipped rows (${report.problems.length}):\n`);
    for (const problem of report.problems.slice(0, show))
      out.write(`  ${problem.file}:${problem.line}: ${problem.reason}\n`);
    if (report.problems.length > show)
      out.write(`  … and ${report.problems.length - show} more (--json lists all)\n`);
  }
}

async function main(): Promise<number> {
  const values = parseCliFlags(
    {
      dir: { type: "string", default: "data/ml-latest-small" },
      movies: { type: "string" },
      ratings: { type: "string" },
      json: { type: "boolean", default: false },
      show: { type: "string", default: "20" },
    },
    HELP,
  );
  const show = Number(values.show);
  if (!Number.isInteger(show) || show < 0) {
    process.stderr.write(`--show: expected a whole number, got ${JSON.stringify(values.show)}\n`);
    return 2;
  }
  const moviesPath = values.movies ?? path.join(values.dir, "movies.csv");
  const ratingsPath = values.ratings ?? path.join(values.dir, "ratings.csv");
  const bar = new cliProgress.SingleBar(
    {
      format: "{file} [{bar}] {percentage}% | {value}/{total} KiB | ETA {eta}s",
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let currentFile = "";
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
  try {
    const report = await importMovieLens({
      prisma: db.prisma,
      snapshotsRoot: path.join(env.DATA_DIR, "snapshots"),
      moviesPath,
      ratingsPath,
      onProgress: values.json
        ? undefined
        : (file, read, total) => {
            if (file !== currentFile) {
              if (currentFile) bar.stop();
              currentFile = file;
              bar.start(Math.ceil(total / 1024), 0, { file: file.padEnd(12) });
            }
            bar.update(Math.ceil(read / 1024));
          },
    });
    if (currentFile) bar.stop();
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printSummary(report, show);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(
      `import failed: ${error instanceof ImportError ? error.message : error.stack}\n`,
    );
    process.exit(1);
  },
);
