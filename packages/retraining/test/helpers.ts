import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { openDatabase, type Database } from "@reco/db";
import { createScratchDatabase } from "@reco/testkit";

export type DatabaseKind = "pglite" | "postgres";

export interface TestDatabase {
  db: Database;
  /** postgresql:// URL (postgres) or the PGlite data directory, for child processes */
  url: string | null;
  dataDir: string | null;
  close(): Promise<void>;
}

/** A migrated, empty database: PGlite in a temp dir, or a scratch database on DATABASE_URL. */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "postgres") {
    const server = process.env.DATABASE_URL;
    if (!server)
      throw new Error(
        'this suite needs a real PostgreSQL: DATABASE_URL is not set (run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`)',
      );
    const scratch = await createScratchDatabase(server, "retraining");
    const db = await openDatabase({ databaseUrl: scratch.url });
    return {
      db,
      url: scratch.url,
      dataDir: null,
      async close() {
        await db.close();
        await scratch.drop();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "retraining-db-"));
  const db = await openDatabase({ dataDir });
  return {
    db,
    url: null,
    dataDir,
    async close() {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const COLUMNS = `event_id VARCHAR, event_time TIMESTAMP, type VARCHAR, user_id VARCHAR, item_id VARCHAR,
  value DOUBLE, rec_id VARCHAR, device VARCHAR, country VARCHAR, payload VARCHAR, "partition" INTEGER, "offset" BIGINT`;

/**
 * A small snapshot directory as the stream worker writes it: 80 users, 40 items, in two taste
 * groups (even users watch mostly even items) so a model has something to learn; deterministic.
 */
export async function writeSmallSnapshots(): Promise<{ dir: string; events: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "retraining-snap-"));
  const target = path.join(
    dir,
    "topic=reco.events.watch/date=2026-01-01/hour=10/part-0-0-1.parquet",
  );
  await mkdir(path.dirname(target), { recursive: true });
  const rows: string[] = [];
  let offset = 0;
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let u = 0; u < 80; u++) {
    const seen = new Set<number>();
    while (seen.size < 12) {
      const sameGroup = random() < 0.85;
      let item = Math.floor(random() * 20) * 2 + (sameGroup ? u % 2 : 1 - (u % 2));
      if (random() < 0.5) item = item % 10; // a popular head
      seen.add(item);
    }
    for (const item of seen) {
      const minute = String(offset % 60).padStart(2, "0");
      rows.push(
        `('e${offset}', '2026-01-01 10:${minute}:00', 'watch', 'u${u}', 'i${item}', 1.0, NULL, NULL, NULL, '{}', 0, ${offset})`,
      );
      offset++;
    }
  }
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TEMP TABLE rows (${COLUMNS})`);
    await connection.run(`INSERT INTO rows VALUES ${rows.join(",\n")}`);
    await connection.run(`COPY rows TO '${target}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { dir, events: rows.length };
}
