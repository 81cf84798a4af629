import type { EventSummary } from "./event-summary.ts";
import type { DeadLetter } from "./dead-letters.ts";
import { rowsAfter, type FeatureRows } from "./features.ts";
import type { ValidatedRecord } from "./parquet-batch.ts";

/** One partition's records between two commits. */
export interface MicroBatch {
  records: ValidatedRecord[];
  /** Kept only when something downstream reads them (features, aggregates); aligned with `records`. */
  events: EventSummary[];
  /** Real-time feature updates, a part per delivery, when features are kept (positions = offsets). */
  features: FeatureRows[];
  /** Event time of the first valid record: its hour names the snapshot directory. */
  firstEventTime: string | null;
  dead: DeadLetter[];
  firstOffset: bigint | null;
  lastOffset: bigint;
  openedAt: number;
}

export const emptyBatch = (): MicroBatch => ({
  records: [],
  events: [],
  features: [],
  firstEventTime: null,
  dead: [],
  firstOffset: null,
  lastOffset: -1n,
  openedAt: 0,
});

export const batchSize = (batch: MicroBatch) => batch.records.length + batch.dead.length;

/** The part of a batch above `onDisk` (the highest offset already in a file), and how much was dropped. */
export function trimBatch(
  batch: MicroBatch,
  onDisk: bigint,
): { trimmed: MicroBatch; dropped: number } {
  if (batch.firstOffset === null || onDisk < batch.firstOffset)
    return { trimmed: batch, dropped: 0 };
  const keep = (offset: bigint | number | string) => BigInt(offset) > onDisk;
  const records: ValidatedRecord[] = [];
  const events: EventSummary[] = [];
  batch.records.forEach((record, i) => {
    if (!keep(record.offset)) return;
    records.push(record);
    const event = batch.events[i];
    if (event) events.push(event);
  });
  const dead = batch.dead.filter((letter) => keep(letter.offset));
  const features = batch.features
    .map((rows) => rowsAfter(rows, Number(onDisk)))
    .filter((rows) => rows.positions.length > 0);
  const lastOffset = batch.lastOffset > onDisk ? batch.lastOffset : onDisk;
  const first = records[0];
  const trimmed: MicroBatch = {
    ...batch,
    records,
    events,
    features,
    dead,
    firstOffset: onDisk + 1n > lastOffset ? lastOffset : onDisk + 1n,
    lastOffset,
    firstEventTime: first ? (JSON.parse(first.payload) as { eventTime: string }).eventTime : null,
  };
  return { trimmed, dropped: batchSize(batch) - batchSize(trimmed) };
}
