import path from "node:path";
import { backgroundConnection, listSnapshotFiles, sqlString } from "@reco/snapshots";

/**
 * Each snapshot file's event times (first and last), read once per file from the Parquet footer's
 * statistics, so a run opens only the files holding events of the span it recomputes — whatever
 * directory a file sits in (the hour of its first event: after a worker's outage, a batch of a
 * quiet topic can span hours).
 */
export class FileTimeRanges {
  private readonly ranges = new Map<string, { first: number; last: number }>();

  /** The files of `topic` holding an event timed within [from, to) (ms), quoted for DuckDB. */
  async select(root: string, topic: string, from: number, to: number): Promise<string[]> {
    const files = (await listSnapshotFiles(root, { topic })).map((file) => path.resolve(file.path));
    // Files of the topic gone since (compacted, expired) are forgotten.
    const listed = new Set(files);
    const dir = path.resolve(root, `topic=${topic}`) + path.sep;
    for (const file of this.ranges.keys())
      if (file.startsWith(dir) && !listed.has(file)) this.ranges.delete(file);
    const unknown = files.filter((file) => !this.ranges.has(file));
    if (unknown.length) await this.read(unknown);
    return files
      .filter((file) => {
        const range = this.ranges.get(file)!;
        return range.last >= from && range.first < to;
      })
      .map(sqlString);
  }

  private async read(files: string[]): Promise<void> {
    const connection = await backgroundConnection();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT file_name,
                epoch_ms(min(stats_min_value::TIMESTAMP)) AS first,
                epoch_ms(max(stats_max_value::TIMESTAMP)) AS last,
                bool_or(stats_min_value IS NULL AND num_values > 0) AS unknown
           FROM parquet_metadata([${files.map(sqlString).join(", ")}])
          WHERE path_in_schema = 'event_time'
          GROUP BY file_name`,
      );
      // A file without rows has no statistics: it holds nothing to select.
      for (const file of files) this.ranges.set(file, { first: Infinity, last: -Infinity });
      for (const row of reader.getRowObjectsJS()) {
        const file = String(row.file_name);
        // Rows without statistics (another writer): always read.
        if (row.unknown === true) this.ranges.set(file, { first: -Infinity, last: Infinity });
        else if (row.first !== null && row.last !== null)
          this.ranges.set(file, { first: Number(row.first), last: Number(row.last) });
      }
    } finally {
      connection.closeSync();
    }
  }
}
