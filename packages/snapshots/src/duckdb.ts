import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

let instance: Promise<DuckDBInstance> | undefined;

/** One in-memory DuckDB per process; callers take their own connection and close it. */
export async function duckConnection(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(":memory:", { threads: "2" });
  return (await instance).connect();
}

/** SQL string literal (DuckDB has no parameter binding for file paths in COPY). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
