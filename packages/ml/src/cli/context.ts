import path from "node:path";
import type { Database } from "@reco/db";
import type { ObjectStorage } from "@reco/storage";
import type { Console } from "./output.ts";

/** What main.ts hands every command: output, and where the registry and database live. */
export interface CommandContext {
  console: Console;
  /** DATA_DIR: embedded database in <dataDir>/pg, default registry in <dataDir>/registry */
  dataDir: string;
  databaseUrl?: string;
  /** S3 (S3_ENDPOINT/S3_BUCKET set): versions are uploaded there, the row points at the bucket */
  storage?: ObjectStorage;
}

export function registryDirOf(ctx: CommandContext, override?: string): string {
  return path.resolve(override ?? path.join(ctx.dataDir, "registry"));
}

/** PostgreSQL when DATABASE_URL is set, else the embedded PGlite database (one process at a time). */
export async function openCommandDatabase(ctx: CommandContext): Promise<Database> {
  const { openDatabase } = await import("@reco/db"); // only commands that write rows load Prisma
  return openDatabase({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir });
}
