import { JsonText, PublishOutcomeUnknown, type EventBus } from "@reco/bus";
import { Backoff, Unavailable } from "@reco/contracts";
import type { ServingMetrics } from "./metrics.ts";

export interface QueuedEvent {
  topic: string;
  key: string;
  value: unknown;
}

export type EventKind = "feedback" | "telemetry";

const DEFAULT_BATCH_SIZE = 5_000;
/**
 * Under Kafka's default limit of 1 MiB per record batch: a window of at most this many bytes cannot
 * put more into any one partition, however its keys fall.
 */
const DEFAULT_BATCH_BYTES = 900 * 1024;
/** What a value that is not JSON text or bytes is counted as (it is serialised by the bus). */
const OPAQUE_VALUE_BYTES = 1024;

function approximateBytes(event: QueuedEvent): number {
  const value = event.value;
  const bytes =
    value instanceof JsonText
      ? value.text.length
      : Buffer.isBuffer(value)
        ? value.length
        : OPAQUE_VALUE_BYTES;
  return bytes + event.key.length + 32;
}

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
  /** Events per publish round, over all topics (default 5,000). */
  batchSize?: number;
  /**
   * Bytes per publish round, over all topics (default 900 KiB, below Kafka's 1 MiB record batch
   * limit): values given as `JsonText` or Buffers count their length, others 1 KiB each.
   */
  batchBytes?: number;
  /**
   * How long the pump lets events accumulate before publishing a part-full batch (default 5 ms), as
   * a Kafka producer's linger.ms: under load one durable write carries hundreds of events instead
   * of a few, at the cost of a few milliseconds of delivery delay.
   */
  lingerMs?: number;
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
  /** Pauses between publish attempts while the bus fails; close() cuts one short. */
  private readonly backoff = new Backoff(50, 2_000);
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
    this.backoff.wake();
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
    this.backoff.reset();
    while (this.items.length > 0 && !this.stopped) {
      // The next `batchSize` events (at most `batchBytes`), one publish per topic, all topics at once: requests and
      // responses are offered in pairs and feedback spans three topics, so one topic at a time
      // would publish small batches one after the other, each paying its own fsync / round trip.
      const max = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
      const maxBytes = this.options.batchBytes ?? DEFAULT_BATCH_BYTES;
      const lingerMs = this.options.lingerMs ?? 5;
      if (lingerMs > 0 && this.items.length < max) await sleep(lingerMs);
      if (this.items.length === 0) break;
      const window: Entry[] = [];
      let bytes = 0;
      for (const entry of this.items) {
        bytes += approximateBytes(entry);
        if (window.length > 0 && (window.length >= max || bytes > maxBytes)) break;
        window.push(entry);
      }
      const byTopic = new Map<string, Entry[]>();
      for (const entry of window) {
        const list = byTopic.get(entry.topic);
        if (list) list.push(entry);
        else byTopic.set(entry.topic, [entry]);
      }
      this.inFlight = new Set(window);
      const results = await Promise.allSettled(
        [...byTopic].map(([topic, batch]) =>
          this.publish(
            topic,
            batch.map((e) => ({ key: e.key, value: e.value })),
          ),
        ),
      );
      this.inFlight = new Set();
      const batches = [...byTopic.values()];
      let failure: Error | undefined;
      results.forEach((result, i) => {
        const batch = batches[i]!;
        if (result.status === "fulfilled") {
          this.remove(batch);
          this.settle(batch);
          this.options.metrics.eventsPublished.inc(batch.length);
          return;
        }
        failure ??= result.reason as Error;
        // A publish may be partly stored (not atomic across partitions); the batch is sent again
        // whole, with the same event ids (readers count an id once). Events whose caller already
        // gave up (answered 503) are not sent again: the caller retries them.
        this.drop(new Set(batch.filter((entry) => entry.ticket?.settled)));
      });
      this.options.metrics.eventQueueDepth.set(this.items.length);
      if (!failure) {
        this.backoff.reset();
        continue;
      }
      this.options.metrics.busPublishFailures.inc();
      this.options.onError?.(failure);
      await this.backoff.pause();
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

  /**
   * One topic's part of a round. A publish the bus gave up waiting for while still sending it
   * (`PublishOutcomeUnknown`) is waited for to its end instead of failing the round: sent again
   * meanwhile, its events could be stored twice. The bus bounds every publish it has not started.
   */
  private async publish(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    try {
      await this.options.bus.publishBatch(topic, messages);
    } catch (error) {
      if (error instanceof PublishOutcomeUnknown) return error.settled;
      throw error;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
