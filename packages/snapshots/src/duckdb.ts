import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

/** One idle close for every instance instead of each one's own (tests use a short one). */
let idleCloseOverrideMs: number | undefined;

/**
 * Sets how long any idle DuckDB instance is kept before it is closed; `undefined` restores each
 * one's own.
 */
export function setDuckIdleCloseMs(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0))
    throw new RangeError(`idle close must be ≥ 0 ms (${ms})`);
  idleCloseOverrideMs = ms;
}

/**
 * An in-memory DuckDB instance opened on demand and closed once no connection has been open for its
 * idle close time. A kept instance holds on to what its queries allocated: after three reads of the
 * demo's 100k ratings, closing it returned 38 MB of RSS (181 → 143 MB). The api reads snapshots at
 * start and every few minutes, so between reads it now holds none of that; opening one again costs
 * a few milliseconds. Connections are counted through their `closeSync`, which every caller calls
 * in a `finally`; a connection never closed keeps the instance, as before.
 *
 * The instances used every 30 s in embedded mode close after one second, not ten: there the api
 * also writes each micro-batch (six files side by side, +25–56 MB on the writer instance) and, ten
 * seconds later, recomputes the minute aggregates and per-user statistics (+50–80 MB). Kept ten
 * seconds, the two overlapped and the api's RSS under a 60 s uncached load peaked 140 MB above its
 * level between them (bench/memory, sampled every 100 ms). The query instance, used at start and by
 * the refresh every few minutes, keeps ten: closed after one second at start, the api on real
 * services sat 20–30 MB higher at rest (261–293 MB in five runs against 237–246 in three; why was
 * not pinned down). DuckDB's allocator is also flushed after any task above 4 MB (its default waits
 * for a 128 MB peak): six such files written three times on one instance grew RSS by 57 MB instead
 * of 91.
 */
class SharedInstance {
  private instance: Promise<DuckDBInstance> | undefined;
  private open = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly threads: string,
    private readonly idleCloseMs: number,
  ) {}

  async connect(): Promise<DuckDBConnection> {
    clearTimeout(this.idleTimer);
    this.open += 1;
    try {
      this.instance ??= DuckDBInstance.create(":memory:", {
        threads: this.threads,
        allocator_flush_threshold: "4MB",
        allocator_bulk_deallocation_flush_threshold: "4MB",
      });
      const connection = await (await this.instance).connect();
      const closeSync = connection.closeSync.bind(connection);
      let closed = false;
      connection.closeSync = () => {
        closeSync();
        if (closed) return;
        closed = true;
        this.release();
      };
      return connection;
    } catch (error) {
      this.release();
      throw error;
    }
  }

  private release(): void {
    this.open -= 1;
    if (this.open > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeIdle(), idleCloseOverrideMs ?? this.idleCloseMs);
    this.idleTimer.unref();
  }

  private closeIdle(): void {
    const instance = this.instance;
    if (this.open > 0 || !instance) return;
    this.instance = undefined;
    void instance.then(
      (opened) => opened.closeSync(),
      () => undefined,
    );
  }
}

const queries = new SharedInstance("2", 10_000);
/**
 * Small snapshot files (one row group each) are written on a single-threaded instance: such a
 * COPY gains no speed from a second DuckDB thread, only spends about 45 % more CPU on it (1.43 vs
 * 0.99 µs per record, measured with 50,000 events); files of different partitions are written
 * side by side on separate connections instead.
 */
const writer = new SharedInstance("1", 1_000);
/**
 * The stream worker's periodic recomputations (minute aggregates, per-user experiment statistics)
 * run beside serving — in the api itself in embedded mode — so they get one thread, not both cores.
 * Measured on the demo's data after a day of benchmark traffic (222k responses), the per-user
 * statistics of 671 users: 270 ms and +98 MB of peak RSS on two threads, 460 ms and +66 MB on one.
 */
const background = new SharedInstance("1", 1_000);

/** A connection to the process's in-memory DuckDB for queries; close it (`closeSync`) when done. */
export function duckConnection(): Promise<DuckDBConnection> {
  return queries.connect();
}

/** A connection for background recomputations, on one thread; close it (`closeSync`) when done. */
export function backgroundConnection(): Promise<DuckDBConnection> {
  return background.connect();
}

/** A connection for writing small snapshot files; close it (`closeSync`) when done. */
export function snapshotWriterConnection(): Promise<DuckDBConnection> {
  return writer.connect();
}

/** SQL string literal (DuckDB has no parameter binding for file paths in COPY). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
