import type { EventBus } from "@reco/bus";
import type { ServingMetrics } from "./metrics.ts";

export interface QueuedEvent {
  topic: string;
  key: string;
  value: unknown;
}

export type EventKind = "feedback" | "telemetry";

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
 * Non-blocking, bounded queue between request handlers and the bus. Handlers enqueue and return at
 * once; one pump publishes in order, retrying with backoff while the bus is down. When full,
 * telemetry is dropped and feedback is refused (the caller answers 503) — both counted.
 */
export class EventQueue {
  private readonly items: QueuedEvent[] = [];
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
      try {
        await this.publish(
          topic,
          batch.map((e) => ({ key: e.key, value: e.value })),
        );
        this.remove(batch);
        this.options.metrics.eventsPublished.inc(batch.length);
        this.options.metrics.eventQueueDepth.set(this.items.length);
        backoffMs = 50;
      } catch (error) {
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

  /** Drops published events; they are the first of their topic, so order within a topic is kept. */
  private remove(published: QueuedEvent[]): void {
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
