import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's prisma/ folder: schema.prisma and the standard migrations/ folders. */
export const PRISMA_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../prisma",
);
export const SCHEMA_PATH = path.join(PRISMA_DIR, "schema.prisma");
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, "migrations");
