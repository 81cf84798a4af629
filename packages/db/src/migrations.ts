import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { MIGRATIONS_DIR, SCHEMA_PATH } from "./paths.ts";
import { withSchemaEngine } from "./schema-engine.ts";

const LOCKFILE = "migration_lock.toml";
const noFilters = { externalTables: [], externalEnums: [] };

async function readMigrationsList(dir: string) {
  const lockPath = path.join(dir, LOCKFILE);
  const lockContent = await readFile(lockPath, "utf8").catch(() => null);
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: {
          tag: "ok" as const,
          value: await readFile(path.join(dir, name, "migration.sql"), "utf8"),
        },
      },
    })),
  );
  return {
    baseDir: dir,
    lockfile: { path: LOCKFILE, content: lockContent },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

export interface MigrateResult {
  applied: string[];
}

type MigrationsList = Awaited<ReturnType<typeof readMigrationsList>>;

/**
 * Whether every migration in the directory is recorded in `_prisma_migrations` as finished, with
 * the checksum (SHA-256 of its `migration.sql`) Prisma records, and no migration is left failed:
 * one query, so a restart does not start the schema engine (a WebAssembly module of several MB
 * whose timers also keep a short-lived process alive for ~10 s) to find nothing to do. Any doubt
 * (no table yet, a changed file, a failed or unknown row state) answers false: the engine decides.
 */
async function recordedUpToDate(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  migrationsList: MigrationsList,
): Promise<boolean> {
  const adapter = await adapterFactory.connect();
  try {
    const result = await adapter.queryRaw({
      sql: "SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations",
      args: [],
      argTypes: [],
    });
    const finished = new Map<string, string>();
    for (const [name, checksum, done, rolledBack] of result.rows) {
      if (rolledBack === true) continue;
      if (done !== true) return false; // a failed migration: the engine reports it
      finished.set(String(name), String(checksum));
    }
    return migrationsList.migrationDirectories.every(
      (migration) =>
        finished.get(migration.path) ===
        createHash("sha256").update(migration.migrationFile.content.value).digest("hex"),
    );
  } catch {
    return false; // no _prisma_migrations yet (an empty database)
  } finally {
    await adapter.dispose().catch(() => undefined);
  }
}

/** True when every committed migration is already applied (see `applyMigrations`). */
export async function migrationsUpToDate(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  migrationsDir = MIGRATIONS_DIR,
): Promise<boolean> {
  return recordedUpToDate(adapterFactory, await readMigrationsList(migrationsDir));
}

/**
 * Applies pending migrations and records them in _prisma_migrations, exactly like `prisma migrate
 * deploy`. When one query shows every migration already applied (same names and checksums), the
 * schema engine is not started at all.
 */
export async function applyMigrations(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  options: { migrationsDir?: string; log?: (message: string) => void } = {},
): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? MIGRATIONS_DIR;
  const migrationsList = await readMigrationsList(dir);
  if (await recordedUpToDate(adapterFactory, migrationsList)) {
    options.log?.("migrations: every migration already applied (checked by one query)");
    return { applied: [] };
  }
  const schemaText = await readFile(SCHEMA_PATH, "utf8");
  return withSchemaEngine(
    schemaText,
    adapterFactory,
    async (engine) => {
      const output = await engine.applyMigrations({ migrationsList, filters: noFilters });
      return { applied: output.appliedMigrationNames };
    },
    options.log,
  );
}

/**
 * SQL that brings the committed migrations up to schema.prisma, or "" when they already match.
 * Diffing migrations against the datamodel needs no shadow database.
 */
export async function pendingSchemaChange(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  migrationsDir = MIGRATIONS_DIR,
): Promise<string> {
  const schemaText = await readFile(SCHEMA_PATH, "utf8");
  const migrationsList = await readMigrationsList(migrationsDir);
  return withSchemaEngine(schemaText, adapterFactory, async (engine) => {
    const from = migrationsList.migrationDirectories.length
      ? ({ tag: "migrations", ...migrationsList } as const)
      : ({ tag: "empty" } as const);
    const result = await engine.diff({
      from,
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schemaText }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    const sql = result.stdout ?? "";
    return /^\s*(--[^\n]*\n?\s*)*$/.test(sql) || sql.includes("This is an empty migration")
      ? ""
      : sql;
  });
}

/** Writes a new standard migration folder `<timestamp>_<name>/migration.sql`; returns its path, or null if nothing changed. */
export async function createMigration(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  name: string,
  migrationsDir = MIGRATIONS_DIR,
): Promise<string | null> {
  if (!/^[a-z0-9_]+$/.test(name))
    throw new Error(
      `migration name must be snake_case letters/digits, got ${JSON.stringify(name)}`,
    );
  const sql = await pendingSchemaChange(adapterFactory, migrationsDir);
  if (!sql) return null;
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const folder = path.join(migrationsDir, `${stamp}_${name}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, "migration.sql"), sql);
  const lockPath = path.join(migrationsDir, LOCKFILE);
  await writeFile(
    lockPath,
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  );
  return folder;
}
