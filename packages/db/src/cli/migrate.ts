import { z } from "zod";
import { envFields, loadEnvOrExit, parseCliFlags } from "@reco/contracts";
import { createMigration, openDatabase, pendingSchemaChange } from "../index.ts";

const HELP = `Usage: npm run db:migrate [-- --create <name>] [-- --check]

Applies pending migrations from prisma/migrations to the database: PostgreSQL when DATABASE_URL is
set, else the embedded PGlite database in $DATA_DIR/pg (default .data/pg).
  --create <name>  write a new migration folder from the difference between schema.prisma and the migrations
  --check          exit 1 if schema.prisma has changes no migration covers
`;

const env = loadEnvOrExit(
  z.object({ DATABASE_URL: envFields.databaseUrl, DATA_DIR: envFields.dataDir }),
  process.env,
);

async function main(): Promise<number> {
  const args = parseCliFlags({ create: { type: "string" }, check: { type: "boolean" } }, HELP);
  const target = env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : `PGlite (${env.DATA_DIR}/pg)`;
  const db = await openDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    migrate: false,
  });
  try {
    if (args.create) {
      const folder = await createMigration(db.adapterFactory, args.create);
      process.stdout.write(
        folder
          ? `created ${folder}\n`
          : "schema.prisma matches the migrations: nothing to create\n",
      );
      return 0;
    }
    if (args.check) {
      const sql = await pendingSchemaChange(db.adapterFactory);
      if (sql) {
        process.stderr.write(
          `schema.prisma has changes no migration covers; run npm run db:migrate -- --create <name>\n${sql}`,
        );
        return 1;
      }
      process.stdout.write("migrations match schema.prisma\n");
      return 0;
    }
    const { applyMigrations } = await import("../migrations.ts");
    const { applied } = await applyMigrations(db.adapterFactory);
    process.stdout.write(
      applied.length
        ? `applied ${applied.length} migration(s) to ${target}: ${applied.join(", ")}\n`
        : `${target} is up to date\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`db:migrate failed: ${error.message}\n`);
    process.exit(1);
  },
);
