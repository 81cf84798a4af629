import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "./generated/prisma/client.ts";
import { lockDataDir, type LockOptions } from "./lock.ts";
import { applyMigrations } from "./migrations.ts";

export type { PrismaClient };

export interface DbConfig {
  /** postgresql://… for a real server; unset for the embedded PGlite database */
  databaseUrl?: string;
  /** embedded mode keeps the database in `<dataDir>/pg` */
  dataDir?: string;
}

export interface Database {
  prisma: PrismaClient;
  kind: "pglite" | "postgres";
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** answers within timeoutMs or reports the database unreachable */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDbOptions extends DbConfig {
  /** apply pending migrations before returning (default true) */
  migrate?: boolean;
  log?: (message: string) => void;
  /**
   * Embedded database: how long to wait for another process still holding it (e.g. a previous
   * api closing it) before failing with DatabaseLocked, and what to say meanwhile.
   */
  lock?: LockOptions;
}

/**
 * The embedded database's page cache. PostgreSQL's default (128 MB) is WebAssembly memory the api
 * holds from its first query; its tables here are small (models' rows, experiments, aggregates),
 * and the pages stay in the OS cache beneath it anyway.
 */
export const PGLITE_SHARED_BUFFERS = "16MB";

/**
 * Opens the database the config names. PGlite must live in exactly one process: the embedded
 * api process owns it and everything else reaches it through the api.
 */
export async function openDatabase(options: OpenDbOptions = {}): Promise<Database> {
  let adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  let kind: Database["kind"];
  let closeDriver: () => Promise<void> = async () => undefined;
  if (options.databaseUrl) {
    kind = "postgres";
    adapterFactory = new PrismaPg({
      connectionString: options.databaseUrl,
      connectionTimeoutMillis: 5_000,
    });
  } else {
    kind = "pglite";
    const dir = path.resolve(options.dataDir ?? ".data", "pg");
    await mkdir(dir, { recursive: true });
    const unlock = await lockDataDir(dir, options.lock);
    let pglite: PGlite;
    try {
      pglite = await PGlite.create(dir, {
        startParams: [
          ...PGlite.defaultStartParams,
          "-c",
          `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
        ],
      });
    } catch (error) {
      await unlock();
      throw error;
    }
    adapterFactory = new PrismaPGlite(pglite);
    closeDriver = async () => {
      await pglite.close();
      await unlock();
    };
  }
  if (options.migrate !== false) await applyMigrations(adapterFactory, { log: options.log });
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    prisma,
    kind,
    adapterFactory,
    async ping(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([
          prisma.$queryRaw`SELECT 1`.then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await prisma.$disconnect();
      await closeDriver();
    },
  };
}
