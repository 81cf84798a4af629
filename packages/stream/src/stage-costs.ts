import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeValidatedSnapshot, type ValidatedRecord } from "./parquet-batch.ts";
import { ValidationPool } from "./validation-pool.ts";

/** CPU per record, in µs, of each stage the worker adds to consuming, measured alone. */
export interface IngestStageCosts {
  /** Packing for the validation thread, UTF-8 check, JSON parse and the shared zod schemas. */
  validate: number;
  /** Appending to DuckDB, JSON columns, zstd Parquet, fsync and rename. */
  write: number;
}

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Runs the worker's own per-record stages on `messages` (valid events, as on the bus) one after
 * the other on this thread, in batches of `batchSize`, and reports their CPU per record (median
 * of `rounds`). For benchmarks: added to what merely consuming costs, this is the least CPU per
 * record the worker can spend, before hand-offs between threads, copies and garbage collection.
 */
export async function measureIngestStages(
  messages: readonly Buffer[],
  { batchSize = 50_000, rounds = 3 }: { batchSize?: number; rounds?: number } = {},
): Promise<IngestStageCosts> {
  const inline = ValidationPool.create(0);
  const root = await mkdtemp(path.join(tmpdir(), "ingest-stages-"));
  const validate: number[] = [];
  const write: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (let start = 0; start < messages.length; start += batchSize) {
        const batch = messages.slice(start, start + batchSize);
        let before = cpuMicros();
        const reply = await inline.validate(batch);
        validate.push((cpuMicros() - before) / batch.length);
        before = cpuMicros();
        const records: ValidatedRecord[] = [];
        batch.forEach((message, i) => {
          if (reply.valid[i] === 1) records.push({ payload: message.toString("utf8"), offset: i });
        });
        if (!records.length || reply.firstEventTime === null)
          throw new Error("measureIngestStages needs valid events");
        const range = {
          topic: "stages",
          partition: round,
          firstOffset: BigInt(start),
          lastOffset: BigInt(start + batch.length - 1),
        };
        await writeValidatedSnapshot(root, range, records, new Date(reply.firstEventTime));
        write.push((cpuMicros() - before) / records.length);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return { validate: median(validate), write: median(write) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
