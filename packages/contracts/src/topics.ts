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
