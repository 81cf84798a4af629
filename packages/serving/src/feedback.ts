import { JsonText } from "@reco/bus";
import {
  AppError,
  BadInput,
  SCHEMA_VERSION,
  Unavailable,
  describeZodError,
  interactionEventSchema,
  type InteractionEvent,
  type TopicNames,
  randomId,
} from "@reco/contracts";
import { DeliveryTimeout, type EventQueue } from "./event-queue.ts";
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
    eventId: event.eventId ?? randomId(),
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

/**
 * When `POST /feedback` answers 2xx: "durable" (default) once every event is stored by the bus
 * (file log: written and fdatasync'd; Kafka: acknowledged by all in-sync replicas, idempotent
 * producer); "queued" once the events are in the in-memory queue — UNSAFE, a crash loses what the
 * queue held; kept only to measure what durability costs (bench/feedback).
 */
export type FeedbackAck = "durable" | "queued";

export const DEFAULT_FEEDBACK_ACK_TIMEOUT_MS = 5_000;

/** The bus did not store a feedback request's events in time (503 + Retry-After). */
export class FeedbackNotStored extends AppError {
  readonly retryAfterS: number;
  constructor(message: string, details: { eventIds: string[]; inFlight: number }, retryAfterS = 2) {
    super("UNAVAILABLE", message, details);
    this.retryAfterS = retryAfterS;
  }
}

/**
 * Feedback: validated, handed to the bus as a whole batch and, in "durable" mode, answered only
 * once the bus has stored it (or refused with 503), then applied locally (history, cache).
 */
export class FeedbackService {
  private readonly ack: FeedbackAck;
  private readonly ackTimeoutMs: number;

  constructor(
    private readonly deps: {
      events: EventQueue;
      topics: TopicNames;
      history: InteractionHistory;
      recommendations: RecommendationService;
      /** Default "durable". */
      ack?: FeedbackAck;
      /** Durable mode: how long a request waits for the bus before its 503 (default 5 s). */
      ackTimeoutMs?: number;
    },
  ) {
    this.ack = deps.ack ?? "durable";
    this.ackTimeoutMs = deps.ackTimeoutMs ?? DEFAULT_FEEDBACK_ACK_TIMEOUT_MS;
  }

  async accept(events: FeedbackEvent[]): Promise<{ accepted: number }> {
    const now = new Date();
    const interactions = events.map((event) => toInteractionEvent(event, now));
    // Serialised once here: the queue sizes its publishes by it and the bus sends it as it is.
    const queued = interactions.map((event) => ({
      topic: this.deps.topics[event.type],
      key: event.userId,
      value: new JsonText(JSON.stringify(event)),
    }));
    if (this.ack === "durable") {
      try {
        await this.deps.events.deliver(queued, this.ackTimeoutMs);
      } catch (error) {
        if (!(error instanceof DeliveryTimeout)) throw error;
        // Events still waiting were taken out of the queue; those of a publish in flight may land.
        // Retrying with these ids makes the retry count once, whatever was stored.
        throw new FeedbackNotStored(
          `${error.message}; retry with the same eventIds (details.eventIds) to avoid duplicates`,
          { eventIds: interactions.map((event) => event.eventId), inFlight: error.inFlight },
          error.retryAfterS,
        );
      }
    } else if (!this.deps.events.offer("feedback", queued)) {
      throw new Unavailable("event queue is full (event bus slow or down); retry later", 2);
    }
    const users = new Set<string>();
    for (const event of interactions) {
      this.deps.history.record(event.userId, event.itemId);
      users.add(event.userId);
    }
    // Shared first: another instance asked after the invalidation must already see the items.
    await this.deps.recommendations.shareInteractions(interactions);
    await Promise.all([...users].map((userId) => this.deps.recommendations.invalidateUser(userId)));
    return { accepted: interactions.length };
  }
}
