import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backgroundConnection,
  duckConnection,
  setDuckIdleCloseMs,
  snapshotWriterConnection,
} from "./duckdb.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the in-memory instance behind `connect` still holds the table `name`. */
async function holds(connect: typeof duckConnection, name: string): Promise<boolean> {
  const connection = await connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = '${name}'`,
    );
    return (reader.getRowObjectsJS()[0] as { n: number }).n === 1;
  } finally {
    connection.closeSync();
  }
}

async function createTable(connection: Awaited<ReturnType<typeof duckConnection>>, name: string) {
  await connection.run(`CREATE TABLE ${name} (x INTEGER)`);
}

describe.each([
  ["queries", duckConnection],
  ["snapshot writer", snapshotWriterConnection],
  ["background", backgroundConnection],
] as const)("the shared DuckDB instance (%s)", (label, connect) => {
  beforeAll(() => setDuckIdleCloseMs(100));
  afterAll(() => setDuckIdleCloseMs(undefined));
  const table = (suffix: string) => `t_${label.replace(" ", "_")}_${suffix}`;

  it("is kept while used again within the idle time, and closed once idle for it", async () => {
    const first = await connect();
    await createTable(first, table("a"));
    first.closeSync();
    expect(await holds(connect, table("a"))).toBe(true); // within 100 ms: the same instance
    await sleep(600);
    expect(await holds(connect, table("a"))).toBe(false); // a new, empty instance
  });

  it("is not closed under a connection that is still open, however long", async () => {
    const longRunning = await connect();
    const other = await connect();
    await createTable(other, table("b"));
    other.closeSync();
    await sleep(600);
    expect(await holds(connect, table("b"))).toBe(true);
    longRunning.closeSync();
    await sleep(600);
    expect(await holds(connect, table("b"))).toBe(false);
  });

  it("counts a connection closed twice once", async () => {
    const first = await connect();
    first.closeSync();
    const second = await connect();
    await createTable(second, table("c"));
    first.closeSync(); // again: must not count `second` as closed
    await sleep(600);
    expect(await holds(connect, table("c"))).toBe(true);
    second.closeSync();
  });
});

describe("setDuckIdleCloseMs", () => {
  it("refuses a negative or non-finite time", () => {
    expect(() => setDuckIdleCloseMs(-1)).toThrow(/≥ 0 ms \(-1\)/);
    expect(() => setDuckIdleCloseMs(Number.NaN)).toThrow(RangeError);
  });
});
