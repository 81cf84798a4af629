import { stat } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { BadInput } from "@reco/contracts";
import { type InteractionLog, LogBuilder } from "./log.ts";

export interface SnapshotOptions {
  /** event types that count as interactions */
  types?: string[];
  /** only events at or after / before these times (seconds since the epoch) */
  from?: number;
  to?: number;
}

export interface SnapshotReport {
  root: string;
  events: number;
  /** first and last event time (seconds), the training data range */
  firstTime: number;
  lastTime: number;
}

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Reads interaction events from the Parquet snapshots under `root`
 * (`topic=…/date=…/hour=…/*.parquet`). Duplicate deliveries of one event_id count once;
 * files still being written (`.tmp-*`) are ignored. `value` is a rating only for `rate` events.
 */
export async function loadSnapshots(
  root: string,
  options: SnapshotOptions = {},
): Promise<{ log: InteractionLog; report: SnapshotReport }> {
  try {
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new BadInput(`cannot read snapshot directory ${root}: ${(error as Error).message}`);
  }
  const types = options.types ?? ["rate", "watch", "click"];
  if (types.length === 0 || types.some((type) => !/^[a-z._-]+$/.test(type))) {
    throw new BadInput(`invalid event types ${JSON.stringify(types)}`);
  }
  const filters = [
    `type IN (${types.map(sqlString).join(", ")})`,
    "user_id IS NOT NULL",
    "item_id IS NOT NULL",
    "event_time IS NOT NULL",
    `filename NOT LIKE ${sqlString("%/.tmp-%")}`,
  ];
  if (options.from !== undefined) filters.push(`epoch(event_time) >= ${Number(options.from)}`);
  if (options.to !== undefined) filters.push(`epoch(event_time) < ${Number(options.to)}`);
  const glob = path.join(path.resolve(root), "**", "*.parquet");
  const sql = `
    SELECT user_id, item_id, CASE WHEN type = 'rate' THEN value END AS rating,
           epoch(event_time) AS t, device, country
      FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, union_by_name = true, filename = true)
     WHERE ${filters.join(" AND ")}
   QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY "offset") = 1
     ORDER BY event_time, event_id`;

  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  const builder = new LogBuilder();
  let firstTime = Infinity;
  let lastTime = -Infinity;
  try {
    const result = await connection.stream(sql).catch((error: Error) => {
      if (/No files found/i.test(error.message)) throw new BadInput(`no Parquet snapshot files under ${root}`);
      throw new BadInput(`cannot read snapshots under ${root}: ${error.message}`);
    });
    for await (const rows of result.yieldRowsJs()) {
      for (const row of rows) {
        const [userId, itemId, rating, time, device, country] = row as [
          string,
          string,
          number | null,
          number,
          string | null,
          string | null,
        ];
        builder.add(userId, itemId, rating ?? Number.NaN, time, { device, country });
        if (time < firstTime) firstTime = time;
        if (time > lastTime) lastTime = time;
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  if (builder.length === 0) throw new BadInput(`no interaction events (${types.join(", ")}) in snapshots under ${root}`);
  return { log: builder.finish(), report: { root, events: builder.length, firstTime, lastTime } };
}
