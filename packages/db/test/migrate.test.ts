import { appendFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyMigrations,
  migrationsUpToDate,
  openDatabase,
  pendingSchemaChange,
  type Database,
} from "../src/index.ts";
import { MIGRATIONS_DIR } from "../src/paths.ts";
import { createScratchDatabase, type ScratchDatabase } from "@reco/testkit";

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  throw new Error(
    'DATABASE_URL is not set: run through `npm test`, or `eval "$(bash scripts/services.sh env)"` first',
  );
}

/**
 * Tables, columns, types, defaults, nullability, constraints and indexes: enough to call two schemas
 * equal. PGlite's newer PostgreSQL also lists NOT NULL as constraints (contype 'n'); nullability is
 * already compared through the columns, so those rows are left out.
 */
async function describeSchema(db: Database): Promise<string[]> {
  const rows = await db.prisma.$queryRawUnsafe<{ line: string }[]>(`
    SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' null=' || is_nullable
           || ' default=' || coalesce(column_default, '') AS line
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype <> 'n'
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`);
  return rows.map((row) => row.line).sort();
}

describe("migrations", () => {
  let scratch: ScratchDatabase;
  let dataDir: string;
  let postgres: Database;
  let pglite: Database;

  beforeAll(async () => {
    scratch = await createScratchDatabase(baseUrl, "reco_migrate");
    dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-pglite-"));
    postgres = await openDatabase({ databaseUrl: scratch.url, migrate: false });
    pglite = await openDatabase({ dataDir, migrate: false });
  });

  afterAll(async () => {
    await postgres?.close();
    await pglite?.close();
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("apply every migration on the first run and nothing on the second, on both databases", async () => {
    for (const db of [postgres, pglite]) {
      const first = await applyMigrations(db.adapterFactory);
      expect(first.applied.length).toBeGreaterThan(0);
      const second = await applyMigrations(db.adapterFactory);
      expect(second.applied).toEqual([]);
      const recorded = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
        "SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL",
      );
      expect(Number(recorded[0]!.n)).toBe(first.applied.length);
    }
  });

  it("leave PGlite and PostgreSQL with the same schema", async () => {
    const [onPostgres, onPglite] = [await describeSchema(postgres), await describeSchema(pglite)];
    expect(onPostgres.length).toBeGreaterThan(50);
    expect(onPglite).toEqual(onPostgres);
    expect(onPostgres).toContain("enum ModelStage candidate,canary,stable,retired");
  });

  it("cover everything schema.prisma declares (no change left without a migration)", async () => {
    expect(await pendingSchemaChange(pglite.adapterFactory)).toBe("");
  });

  it("keep stored rows when migrations run again", async () => {
    await pglite.prisma.item.create({ data: { externalId: "keep-me", title: "Kept" } });
    await applyMigrations(pglite.adapterFactory);
    expect(await pglite.prisma.item.count({ where: { externalId: "keep-me" } })).toBe(1);
  });
});

describe("the up-to-date check that lets a restart skip the schema engine", () => {
  let dataDir: string;
  let db: Database;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-pglite-uptodate-"));
    db = await openDatabase({ dataDir, migrate: false });
  });

  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A copy of the committed migrations in a scratch directory, to add or change one. */
  async function copyOfMigrations(): Promise<string> {
    const dir = path.join(dataDir, `migrations-${Math.random().toString(36).slice(2)}`);
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    return dir;
  }

  it("is false on an empty database and true once every migration is applied", async () => {
    expect(await migrationsUpToDate(db.adapterFactory)).toBe(false);
    const first = await applyMigrations(db.adapterFactory);
    const committed = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) =>
      e.isDirectory(),
    );
    expect(first.applied).toHaveLength(committed.length);
    expect(await migrationsUpToDate(db.adapterFactory)).toBe(true);
  });

  it("is false when a migration's file differs from the checksum recorded when it ran", async () => {
    const dir = await copyOfMigrations();
    const [firstMigration] = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    await appendFile(path.join(dir, firstMigration!, "migration.sql"), "\n-- edited\n");
    expect(await migrationsUpToDate(db.adapterFactory, dir)).toBe(false);
  });

  it("is false while a new migration waits, which the engine then applies (and only it)", async () => {
    const dir = await copyOfMigrations();
    await mkdir(path.join(dir, "29991231000000_extra"));
    await writeFile(
      path.join(dir, "29991231000000_extra", "migration.sql"),
      'CREATE TABLE "UpToDateProbe" ("id" INTEGER PRIMARY KEY);\n',
    );
    expect(await migrationsUpToDate(db.adapterFactory, dir)).toBe(false);
    const applied = await applyMigrations(db.adapterFactory, { migrationsDir: dir });
    expect(applied.applied).toEqual(["29991231000000_extra"]);
    await db.prisma.$executeRawUnsafe('INSERT INTO "UpToDateProbe" ("id") VALUES (1)');
    expect(await migrationsUpToDate(db.adapterFactory, dir)).toBe(true);
  });

  it("is false while a migration is recorded as failed (not finished, not rolled back)", async () => {
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ('failed-probe', 'x', '29991231000001_failed', now(), 0)`,
    );
    expect(await migrationsUpToDate(db.adapterFactory)).toBe(false);
  });
});
