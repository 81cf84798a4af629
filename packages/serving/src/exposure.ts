import { JsonText } from "@reco/bus";
import { SCHEMA_VERSION, type RequestContext, type TopicNames } from "@reco/contracts";
import type { QueuedEvent } from "./event-queue.ts";

/** The fields of reco.responses that come from the answer itself (cached with it, as JSON). */
export interface AnswerMeta {
  itemIds: string[];
  modelVersion: string;
  experimentKey?: string;
  variant?: string;
  fallback: boolean;
  fallbackReason?: string;
}

export interface Exposure {
  topics: Pick<TopicNames, "requests" | "responses">;
  userId: string;
  k: number;
  context: RequestContext;
  recId: string;
  /** JSON.stringify of the answer's AnswerMeta: its fields go into reco.responses as they are. */
  metaJson: string;
  cacheHit: boolean;
  latencyMs: number;
  eventTime: string;
  eventIds: [request: string, response: string];
}

/**
 * reco.requests + reco.responses for one served answer, as JSON text. Twice per request on the
 * serving path, so no objects are built and serialised: the text is put together from
 * JSON.stringify output (ids, the context, the answer's meta JSON) and numbers. A test decodes
 * every shape with the shared event schemas.
 */
export function exposureEvents(exposure: Exposure): QueuedEvent[] {
  const { topics, userId, recId, eventTime, eventIds } = exposure;
  const head = `{"schemaVersion":${SCHEMA_VERSION},"eventTime":"${eventTime}","userId":${JSON.stringify(userId)},"recId":"${recId}"`;
  const context =
    exposure.context.device || exposure.context.country
      ? `,"context":${JSON.stringify(exposure.context)}`
      : "";
  const latencyMs = Number.isFinite(exposure.latencyMs) ? Math.max(0, exposure.latencyMs) : 0;
  return [
    {
      topic: topics.requests,
      key: userId,
      value: new JsonText(
        `${head},"eventId":"${eventIds[0]}","type":"reco.request","k":${exposure.k}${context}}`,
      ),
    },
    {
      topic: topics.responses,
      key: userId,
      value: new JsonText(
        `${head},"eventId":"${eventIds[1]}","type":"reco.response","latencyMs":${latencyMs},` +
          `"cacheHit":${exposure.cacheHit},"status":200,${exposure.metaJson.slice(1)}`,
      ),
    },
  ];
}
