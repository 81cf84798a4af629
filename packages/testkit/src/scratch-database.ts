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
        await dropForced(admin, name);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * DROP DATABASE … WITH (FORCE) terminates the other sessions on the database, and refuses when one
 * is not the caller's to terminate: an autovacuum worker that happens to be on it (seen once in a
 * full run, after a suite's heavy writes: "must be a member of the role whose process is being
 * terminated or member of pg_signal_backend"). The worker is gone within moments: try again.
 */
async function dropForced(admin: pg.Client, name: string, attempts = 20): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42501 insufficient_privilege (another role's session), 55006 object_in_use
      if (attempt >= attempts || (code !== "42501" && code !== "55006")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
