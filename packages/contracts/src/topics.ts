import type { RecoEvent } from "./events.ts";

/** Topic names; the prefix is configurable so several deployments can share one broker. */
export function topicNames(prefix = "reco") {
  return {
    watch: `${prefix}.events.watch`,
    rate: `${prefix}.events.rate`,
    click: `${prefix}.events.click`,
    requests: `${prefix}.requests`,
    responses: `${prefix}.responses`,
    dlq: `${prefix}.dlq`,
    /** Item changes (create, replace, update, soft delete): every api instance applies them. */
    catalog: `${prefix}.catalog`,
    /** User deletions: every api instance drops the user's in-memory state (history, fold-in). */
    users: `${prefix}.users`,
  } as const;
}
export type TopicNames = ReturnType<typeof topicNames>;

/** The stream worker's consumer group by default; the api reads its lag to report it. */
export const STREAM_WORKER_GROUP = "reco.stream-worker";

/** The topics the stream worker writes into Parquet snapshots. */
export function consumedTopics(topics: TopicNames): string[] {
  return [topics.watch, topics.rate, topics.click, topics.requests, topics.responses];
}

/**
 * The api's exposure telemetry: offered per served answer and never acknowledged to a client, so
 * the embedded event log makes it durable on a schedule rather than per publish (see the bus's
 * `lazySyncTopics`); a killed process still loses none of it.
 */
export function telemetryTopics(topics: TopicNames): string[] {
  return [topics.requests, topics.responses];
}

export function topicForEvent(topics: TopicNames, event: RecoEvent): string {
  switch (event.type) {
    case "watch":
      return topics.watch;
    case "rate":
      return topics.rate;
    case "click":
      return topics.click;
    case "reco.request":
      return topics.requests;
    case "reco.response":
      return topics.responses;
  }
}
