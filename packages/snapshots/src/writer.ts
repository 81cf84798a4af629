import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { DuckDBTimestampValue } from "@duckdb/node-api";
import { pathExists, renameDurably } from "./durable.ts";
import { snapshotWriterConnection, sqlString } from "./duckdb.ts";
import { snapshotDir, snapshotFileName, type SnapshotRange } from "./layout.ts";
import { SNAPSHOT_COLUMNS, type SnapshotRow } from "./rows.ts";

export class SnapshotError extends Error {
  override name = "SnapshotError";
}

/**
 * Writes rows of one partition's contiguous offset range as a zstd Parquet file, atomically:
 * temp name → fsync → rename → fsync dir. Commit offsets only after this resolves.
 * Writing a range that is already on disk is a no-op, so a replay after a crash is harmless.
 * The hour directory comes from the first row's event time.
 */
export async function writeSnapshot(
  root: string,
  range: SnapshotRange,
  rows: SnapshotRow[],
): Promise<string> {
  if (rows.length === 0) throw new SnapshotError("refusing to write an empty snapshot");
  if (range.lastOffset < range.firstOffset) {
    throw new SnapshotError(`bad range ${range.firstOffset}..${range.lastOffset}`);
  }
  const dir = snapshotDir(root, range.topic, rows[0]!.eventTime);
  const finalPath = path.join(dir, snapshotFileName(range));
  if (await pathExists(finalPath)) return finalPath;
  await mkdir(dir, { recursive: true });
  const tempPath = path.join(dir, `.tmp-${randomUUID()}.parquet`);

  const connection = await snapshotWriterConnection();
  const table = `snap_${randomUUID().replaceAll("-", "")}`;
  try {
    await connection.run(
      `CREATE TABLE ${table} (${SNAPSHOT_COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(", ")})`,
    );
    const appender = await connection.createAppender(table);
    const text = (value: string | null) =>
      value === null ? appender.appendNull() : appender.appendVarchar(value);
    for (const row of rows) {
      appender.appendVarchar(row.eventId);
      appender.appendTimestamp(new DuckDBTimestampValue(BigInt(row.eventTime.getTime()) * 1000n));
      appender.appendVarchar(row.type);
      appender.appendVarchar(row.userId);
      text(row.itemId);
      if (row.value === null) appender.appendNull();
      else appender.appendDouble(row.value);
      text(row.recId);
      text(row.device);
      text(row.country);
      appender.appendVarchar(row.payload);
      appender.appendInteger(row.partition);
      appender.appendBigInt(row.offset);
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(
      `COPY ${table} TO ${sqlString(tempPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    await renameDurably(tempPath, finalPath);
    return finalPath;
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    connection.closeSync();
  }
}
