import type { RecoEvent } from "@reco/contracts";

/** One row of a snapshot file; the column names in Parquet are the snake_case forms. */
export interface SnapshotRow {
  eventId: string;
  eventTime: Date;
  type: string;
  userId: string;
  itemId: string | null;
  /** rating for `rate`, progress for `watch`, latency (ms) for `reco.response` */
  value: number | null;
  recId: string | null;
  device: string | null;
  country: string | null;
  /** the original event as JSON, so no field is ever lost */
  payload: string;
  partition: number;
  offset: bigint;
}

export const SNAPSHOT_COLUMNS = [
  ["event_id", "VARCHAR"],
  ["event_time", "TIMESTAMP"],
  ["type", "VARCHAR"],
  ["user_id", "VARCHAR"],
  ["item_id", "VARCHAR"],
  ["value", "DOUBLE"],
  ["rec_id", "VARCHAR"],
  ["device", "VARCHAR"],
  ["country", "VARCHAR"],
  ["payload", "VARCHAR"],
  ["partition", "INTEGER"],
  ["offset", "BIGINT"],
] as const;

function eventValue(event: RecoEvent): number | null {
  switch (event.type) {
    case "rate":
      return event.rating;
    case "watch":
      return event.progress ?? null;
    case "reco.response":
      return event.latencyMs;
    default:
      return null;
  }
}

/** Flattens a validated event into a snapshot row; `raw` is kept verbatim as the payload. */
export function toSnapshotRow(
  event: RecoEvent,
  position: { partition: number; offset: bigint | number | string; raw?: string },
): SnapshotRow {
  const itemId = "itemId" in event ? event.itemId : null;
  const recId = "recId" in event ? (event.recId ?? null) : null;
  const context = "context" in event ? event.context : undefined;
  return {
    eventId: event.eventId,
    eventTime: new Date(event.eventTime),
    type: event.type,
    userId: event.userId,
    itemId,
    value: eventValue(event),
    recId,
    device: context?.device ?? null,
    country: context?.country ?? null,
    payload: position.raw ?? JSON.stringify(event),
    partition: position.partition,
    offset: BigInt(position.offset),
  };
}
