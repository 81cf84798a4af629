import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  createScratchDatabase,
  startPrivatePostgres,
  uniqueName,
  type PrivatePostgres,
} from "@reco/testkit";
import { isAlive } from "./process-state.ts";

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

describe("startPrivatePostgres", () => {
  const started: PrivatePostgres[] = [];
  afterAll(async () => {
    await Promise.all(started.map((postgres) => postgres.dispose()));
  });

  it("answers select 1, is unreachable once killed, and comes back with its data on the same port", async () => {
    const postgres = await startPrivatePostgres();
    started.push(postgres);
    expect(postgres.port).not.toBe(5432);
    expect(postgres.url).toBe(`postgresql://postgres@127.0.0.1:${postgres.port}/postgres`);
    expect(await query<{ one: number }>(postgres.url, "select 1 as one")).toEqual([{ one: 1 }]);

    const table = uniqueName("testkit");
    await query(
      postgres.url,
      `create table ${table} (note text); insert into ${table} values ('committed')`,
    );

    const firstPid = postgres.pid;
    await postgres.kill();
    expect(isAlive(firstPid)).toBe(false);
    await expect(query(postgres.url, "select 1")).rejects.toThrow();

    await postgres.restart();
    expect(postgres.pid).not.toBe(firstPid);
    expect(await query<{ note: string }>(postgres.url, `select note from ${table}`)).toEqual([
      { note: "committed" },
    ]);
  }, 120_000); // starts, kills and restarts a JVM/server: slow when the 2 cores are busy

  it("pause() freezes connections opened before it too (backends leave the postmaster's process group), resume() thaws them", async () => {
    const postgres = await startPrivatePostgres();
    started.push(postgres);
    const open = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
    open.on("error", () => {});
    await open.connect();
    try {
      expect((await open.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      postgres.pause();
      const frozen = await Promise.race([
        open.query("select 2 as two").then(() => "answered"),
        new Promise((resolve) => setTimeout(() => resolve("hung"), 1500)),
      ]);
      expect(frozen).toBe("hung");
      postgres.resume();
      // the query sent while frozen is answered once thawed, on the same connection
      expect((await open.query("select 3 as three")).rows).toEqual([{ three: 3 }]);
    } finally {
      postgres.resume();
      await open.end().catch(() => {});
    }
  }, 120_000);

  // A session the dropping role may not terminate (an autovacuum worker, in a full run) makes
  // DROP DATABASE … WITH (FORCE) fail with 42501 until it ends: drop() waits it out.
  it("a scratch database's drop outlasts a session of another role on it", async () => {
    const postgres = await startPrivatePostgres();
    started.push(postgres);
    const creator = uniqueName("creator");
    const other = uniqueName("other");
    await query(postgres.url, `create role ${creator} login createdb; create role ${other} login`);
    const asRole = (role: string, database: string) => {
      const url = new URL(postgres.url);
      url.username = role;
      url.pathname = `/${database}`;
      return url.toString();
    };
    const scratch = await createScratchDatabase(asRole(creator, "postgres"), "droptest");
    const session = new pg.Client({ connectionString: asRole(other, scratch.name) });
    session.on("error", () => {});
    await session.connect();
    const ended = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => session.end());
    const dropStarted = Date.now();
    await scratch.drop();
    await ended;
    expect(
      Date.now() - dropStarted,
      "dropped only once the other session ended",
    ).toBeGreaterThanOrEqual(900);
    const left = await query<{ n: string }>(
      postgres.url,
      `select count(*) as n from pg_database where datname = '${scratch.name}'`,
    );
    expect(left).toEqual([{ n: "0" }]);
  }, 120_000);
});
