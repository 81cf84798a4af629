import { randomUUID } from "node:crypto";
import {
  BadInput,
  SCHEMA_VERSION,
  Unavailable,
  describeZodError,
  interactionEventSchema,
  type InteractionEvent,
  type TopicNames,
} from "@reco/contracts";
import type { EventQueue } from "./event-queue.ts";
import type { InteractionHistory } from "./history.ts";
import type { RecommendationService } from "./recommender.ts";
import { feedbackBatchSchema, feedbackEventSchema, type FeedbackEvent } from "./schemas.ts";

/** Parses a /feedback body: one event, or `{events:[…]}` (≤ 1000); errors name the field and index. */
export function parseFeedbackBody(body: unknown): FeedbackEvent[] {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadInput("body must be a JSON object: one event, or {events:[…]}");
  }
  const isBatch = "events" in body;
  const parsed = isBatch
    ? feedbackBatchSchema.safeParse(body)
    : feedbackEventSchema.safeParse(body);
  if (!parsed.success) {
    throw new BadInput(`invalid feedback: ${describeZodError(parsed.error)}`, {
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.join("."),
        message: issue.message,
      })),
    });
  }
  return isBatch
    ? (parsed.data as { events: FeedbackEvent[] }).events
    : [parsed.data as FeedbackEvent];
}

export function toInteractionEvent(event: FeedbackEvent, now: Date): InteractionEvent {
  const envelope = {
    schemaVersion: SCHEMA_VERSION,
    eventId: randomUUID(),
    eventTime: event.ts ?? now.toISOString(),
    userId: event.userId,
    itemId: event.itemId,
    ...(event.recId ? { recId: event.recId } : {}),
    ...(event.context ? { context: event.context } : {}),
  };
  const candidate =
    event.type === "rate"
      ? { ...envelope, type: "rate" as const, rating: event.value! }
      : event.type === "watch"
        ? {
            ...envelope,
            type: "watch" as const,
            ...(event.value === undefined ? {} : { progress: event.value }),
          }
        : { ...envelope, type: "click" as const };
  // The bus contract is the source of truth: an event it would reject never leaves here.
  return interactionEventSchema.parse(candidate);
}

/** Feedback: validated, queued for the bus as a whole batch or refused with 503, then applied locally. */
export class FeedbackService {
  constructor(
    private readonly deps: {
      events: EventQueue;
      topics: TopicNames;
      history: InteractionHistory;
      recommendations: RecommendationService;
    },
  ) {}

  async accept(events: FeedbackEvent[]): Promise<{ accepted: number }> {
    const now = new Date();
    const interactions = events.map((event) => toInteractionEvent(event, now));
    const queued = this.deps.events.offer(
      "feedback",
      interactions.map((event) => ({
        topic: this.deps.topics[event.type],
        key: event.userId,
        value: event,
      })),
    );
    if (!queued)
      throw new Unavailable("event queue is full (event bus slow or down); retry later", 2);
    const users = new Set<string>();
    for (const event of interactions) {
      this.deps.history.record(event.userId, event.itemId);
      users.add(event.userId);
    }
    await Promise.all([...users].map((userId) => this.deps.recommendations.invalidateUser(userId)));
    return { accepted: interactions.length };
  }
}
