import type { EventBus } from "@reco/bus";
import { Unavailable } from "@reco/contracts";
import type { ServingMetrics } from "./metrics.ts";

export interface QueuedEvent {
  topic: string;
  key: string;
  value: unknown;
}

export type EventKind = "feedback" | "telemetry";

/** The events of one `deliver` call: settled once every one of them is published, or on timeout. */
interface Ticket {
  remaining: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

type Entry = QueuedEvent & { ticket?: Ticket };

/** `deliver` gave up: the bus did not take the events within the bound (answered 503). */
export class DeliveryTimeout extends Unavailable {
  constructor(
    message: string,
    /** Events of the call that may still reach the bus (they were in a publish in flight). */
    readonly inFlight: number,
  ) {
    super(message, 2);
  }
}

export interface EventQueueOptions {
  bus: EventBus;
  metrics: ServingMetrics;
  /** Events held at most while the bus is slow or down. */
  capacity: number;
  /**
   * Telemetry (reco.requests/responses) may fill the queue only up to this fraction, so it can never
   * crowd out feedback (default 0.8).
   */
  telemetryShare?: number;
  /** Events per publish call. */
  batchSize?: number;
  /**
   * How long the pump lets events accumulate before publishing a part-full batch (default 5 ms), as
   * a Kafka producer's linger.ms: under load one durable write carries hundreds of events instead
   * of a few, at the cost of a few milliseconds of delivery delay.
   */
  lingerMs?: number;
  /** A publish that takes longer is treated as failed and retried (at-least-once: events carry ids). */
  publishTimeoutMs?: number;
  onError?: (error: Error) => void;
}

/**
 * Bounded queue between request handlers and the bus; one pump publishes in order, retrying with
 * backoff while the bus is down. Telemetry is `offer`ed (fire and forget). Feedback is `deliver`ed:
 * the call resolves once the bus has durably stored every one of its events (the adapters resolve
 * a publish only then), so concurrent requests share the pump's publishes — one fsync or one
 * acks=all round trip per batch of many requests (group commit). When full, telemetry is dropped
 * and feedback is refused (the caller answers 503) — both counted.
 */
export class EventQueue {
  private readonly items: Entry[] = [];
  /** The events of the publish under way (they may land even if their caller gave up). */
  private inFlight: ReadonlySet<Entry> = new Set();
  private pumping: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly capacity: number;
  private readonly telemetryLimit: number;

  constructor(private readonly options: EventQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1)
      throw new RangeError("queue capacity must be ≥ 1");
    this.capacity = options.capacity;
    this.telemetryLimit = Math.floor(options.capacity * (options.telemetryShare ?? 0.8));
  }

  get depth(): number {
    return this.items.length;
  }

  /** Room for `count` more events of this kind right now. */
  hasRoom(kind: EventKind, count = 1): boolean {
    const limit = kind === "feedback" ? this.capacity : this.telemetryLimit;
    return this.items.length + count <= limit;
  }

  /** Queues all events or none; false (and counted) when there is no room. */
  offer(kind: EventKind, events: QueuedEvent[]): boolean {
    if (this.stopped || !this.hasRoom(kind, events.length)) {
      this.options.metrics.eventsDropped.inc({ kind }, events.length);
      return false;
    }
    this.items.push(...events);
    this.options.metrics.eventQueueDepth.set(this.items.length);
    this.kick();
    return true;
  }

  /**
   * Queues all events or none, and resolves once all of them are durably published. Rejects with
   * `DeliveryTimeout` (an `Unavailable`) when they are not within `timeoutMs`: the ones still
   * waiting are taken out of the queue, so only those of a publish already in flight (`inFlight`)
   * can still be stored. With no room, rejects at once (counted as dropped feedback).
   */
  deliver(events: QueuedEvent[], timeoutMs: number): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.stopped || !this.hasRoom("feedback", events.length)) {
      this.options.metrics.eventsDropped.inc({ kind: "feedback" }, events.length);
      return Promise.reject(
        new Unavailable("event queue is full (event bus slow or down); retry later", 2),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const ticket: Ticket = {
        remaining: events.length,
        settled: false,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const entries: Entry[] = events.map((event) => ({ ...event, ticket }));
      const timer = setTimeout(() => {
        if (ticket.settled) return;
        ticket.settled = true;
        const waiting = new Set(entries.filter((entry) => !this.inFlight.has(entry)));
        this.drop(waiting);
        this.options.metrics.feedbackTimeouts.inc();
        reject(
          new DeliveryTimeout(
            `the event bus did not store the feedback within ${timeoutMs} ms (slow or down); retry later`,
            entries.length - waiting.size,
          ),
        );
      }, timeoutMs);
      this.items.push(...entries);
      this.options.metrics.eventQueueDepth.set(this.items.length);
      this.kick();
    });
  }

  /** Waits until the queue is empty or `timeoutMs` passed; returns the events left unpublished. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length > 0 && Date.now() < deadline) {
      this.kick();
      await sleep(10);
    }
    return this.items.length;
  }

  /** Flushes (bounded) and stops accepting; returns the events that could not be published. */
  async close(timeoutMs = 5_000): Promise<number> {
    const left = await this.flush(timeoutMs);
    this.stopped = true;
    this.wake?.();
    const abandoned = new Set(this.items.filter((entry) => entry.ticket && !entry.ticket.settled));
    for (const entry of abandoned) {
      entry.ticket!.settled = true;
      entry.ticket!.reject(new Unavailable("the api is shutting down; retry later", 2));
    }
    return left;
  }

  /** Starts the pump if idle; a pump in backoff is not woken, so a down bus is not hammered. */
  private kick(): void {
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    let backoffMs = 50;
    while (this.items.length > 0 && !this.stopped) {
      // One publish per topic over the next `batchSize` events: requests and responses are offered in
      // pairs, so taking only a same-topic run would publish one event at a time under load.
      const max = this.options.batchSize ?? 500;
      const lingerMs = this.options.lingerMs ?? 5;
      if (lingerMs > 0 && this.items.length < max) await sleep(lingerMs);
      if (this.items.length === 0) break;
      const topic = this.items[0]!.topic;
      const window = this.items.length > max ? this.items.slice(0, max) : this.items;
      const batch = window.filter((event) => event.topic === topic);
      this.inFlight = new Set(batch);
      try {
        await this.publish(
          topic,
          batch.map((e) => ({ key: e.key, value: e.value })),
        );
        this.inFlight = new Set();
        this.remove(batch);
        this.settle(batch);
        this.options.metrics.eventsPublished.inc(batch.length);
        this.options.metrics.eventQueueDepth.set(this.items.length);
        backoffMs = 50;
      } catch (error) {
        this.inFlight = new Set();
        // A publish may be partly stored (not atomic across partitions); the batch is sent again
        // whole, with the same event ids, which every reader of the snapshots counts once. Events
        // whose caller already gave up (answered 503) are not sent again: the caller retries them.
        this.drop(new Set(batch.filter((entry) => entry.ticket?.settled)));
        this.options.metrics.busPublishFailures.inc();
        this.options.onError?.(error as Error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }

  /** Counts published events against their callers' tickets; a ticket whose events are all out resolves. */
  private settle(published: Entry[]): void {
    for (const entry of published) {
      const ticket = entry.ticket;
      if (!ticket || ticket.settled) continue;
      ticket.remaining -= 1;
      if (ticket.remaining === 0) {
        ticket.settled = true;
        ticket.resolve();
      }
    }
  }

  /** Takes events out of the queue without publishing them (their caller gave up). */
  private drop(events: ReadonlySet<Entry>): void {
    if (events.size === 0) return;
    this.remove([...events]);
    this.options.metrics.eventQueueDepth.set(this.items.length);
  }

  /** Drops published events; they are the first of their topic, so order within a topic is kept. */
  private remove(published: Entry[]): void {
    const done = new Set(published);
    let kept = 0;
    for (const event of this.items) if (!done.has(event)) this.items[kept++] = event;
    this.items.length = kept;
  }

  private publish(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    const timeoutMs = this.options.publishTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.options.bus.publishBatch(topic, messages),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`publish to ${topic} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
