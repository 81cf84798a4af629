import pg from "pg";
import { uniqueName } from "./names.ts";

export interface ScratchDatabase {
  name: string;
  /** the server's URL with this database as its path */
  url: string;
  /** a connection to the server's own database, for ALTER/DROP DATABASE in fault tests */
  admin: pg.Client;
  /** drops the database (closing its connections) and the admin connection */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on a shared PostgreSQL server (e.g. DATABASE_URL from services.sh), so
 * suites never see each other's rows. The server's own database only hosts the CREATE and DROP.
 */
export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<ScratchDatabase> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    admin,
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
