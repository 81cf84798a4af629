import type { RecoEvent } from "@reco/contracts";

/**
 * What the real-time features and the aggregates read of an event. The validation thread sends
 * these back instead of whole events: a response's item list, the context and the envelope never
 * cross the thread boundary (copying whole events cost about 3 µs per event).
 */
export interface EventSummary {
  type: RecoEvent["type"];
  userId: string;
  eventTime: string;
  /** Interactions (watch, rate, click). */
  itemId?: string;
  /** The recommendation an interaction came from, or a request's / response's own id. */
  recId?: string;
  /** Responses served inside an experiment. */
  experimentKey?: string;
}

export function summarize(event: RecoEvent): EventSummary {
  const summary: EventSummary = {
    type: event.type,
    userId: event.userId,
    eventTime: event.eventTime,
  };
  if ("itemId" in event) summary.itemId = event.itemId;
  if (event.recId !== undefined) summary.recId = event.recId;
  if (event.type === "reco.response" && event.experimentKey !== undefined)
    summary.experimentKey = event.experimentKey;
  return summary;
}
