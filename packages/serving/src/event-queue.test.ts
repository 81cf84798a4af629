import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  BusUnavailable,
  JsonText,
  PublishOutcomeUnknown,
  openFileLogBus,
  type EventBus,
  type FileLogBus,
} from "@reco/bus";
import { waitFor } from "@reco/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeliveryTimeout, EventQueue } from "./event-queue.ts";
import { ServingMetrics } from "./metrics.ts";

/** The real file-log bus behind a switch that makes every publish fail, as a broker outage would. */
function withOutageSwitch(bus: FileLogBus): EventBus & { down: boolean } {
  const wrapper = Object.create(bus) as EventBus & { down: boolean };
  wrapper.down = false;
  wrapper.publishBatch = (topic, messages) =>
    wrapper.down
      ? Promise.reject(new BusUnavailable("broker down (test switch)"))
      : bus.publishBatch(topic, messages);
  return wrapper;
}

/** The real file-log bus, counting publish calls; `hold` keeps publishes in flight until released. */
function withGate(bus: FileLogBus) {
  const wrapper = Object.create(bus) as EventBus;
  const state = { calls: 0, hold: null as Promise<void> | null, fail: false };
  wrapper.publishBatch = async (topic, messages) => {
    state.calls += 1;
    if (state.hold) await state.hold;
    if (state.fail) throw new BusUnavailable("broker down (test switch)");
    return bus.publishBatch(topic, messages);
  };
  return { bus: wrapper, state };
}

async function storedCount(bus: FileLogBus, topic: string): Promise<number> {
  const offsets = await bus.endOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.offset), 0);
}

async function readAll(bus: FileLogBus, topic: string): Promise<unknown[]> {
  const values: unknown[] = [];
  const consumer = bus.consumer({ groupId: `read-${Math.random()}`, topics: [topic] });
  await consumer.run(async (batch) => {
    for (const m of batch.messages) values.push(JSON.parse(m.value.toString()));
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await consumer.stop();
  return values;
}

describe("EventQueue", () => {
  let dir: string;
  let fileBus: FileLogBus;
  let bus: EventBus & { down: boolean };
  let metrics: ServingMetrics;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "event-queue-"));
    fileBus = await openFileLogBus({ dir });
    await fileBus.ensureTopics(["t.feedback", "t.telemetry"], 1);
    bus = withOutageSwitch(fileBus);
    metrics = new ServingMetrics({ defaultMetrics: false });
  });
  afterEach(async () => {
    await fileBus.close();
    await rm(dir, { recursive: true, force: true });
  });

  const event = (topic: string, n: number) => ({ topic, key: `u${n % 3}`, value: { n } });

  it("publishes everything offered, in order, without making the caller wait", async () => {
    const queue = new EventQueue({ bus, metrics, capacity: 100 });
    for (let n = 0; n < 30; n += 1)
      expect(queue.offer("feedback", [event("t.feedback", n)])).toBe(true);
    expect(await queue.flush(5_000)).toBe(0);
    const values = (await readAll(fileBus, "t.feedback")) as { n: number }[];
    expect(values.map((v) => v.n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(await metrics.value(metrics.eventsPublished)).toBe(30);
  });

  it("while the bus is down: telemetry fills 80 % then is dropped, feedback fills the rest then is refused; all counted", async () => {
    bus.down = true;
    const queue = new EventQueue({ bus, metrics, capacity: 10 });
    const telemetry = Array.from({ length: 12 }, (_, n) =>
      queue.offer("telemetry", [event("t.telemetry", n)]),
    );
    expect(telemetry.filter(Boolean)).toHaveLength(8);
    expect(queue.offer("feedback", [event("t.feedback", 0), event("t.feedback", 1)])).toBe(true);
    expect(queue.offer("feedback", [event("t.feedback", 2)])).toBe(false); // all-or-nothing, and full
    expect(queue.depth).toBe(10);
    expect(await metrics.value(metrics.eventsDropped, { kind: "telemetry" })).toBe(4);
    expect(await metrics.value(metrics.eventsDropped, { kind: "feedback" })).toBe(1);
    await waitFor(async () => (await metrics.value(metrics.busPublishFailures)) > 0, {
      description: "a failed attempt",
    });
    expect(await metrics.value(metrics.eventQueueDepth)).toBe(10);

    bus.down = false;
    await waitFor(() => queue.depth === 0, {
      timeoutMs: 10_000,
      description: "queue drains after recovery",
    });
    expect(((await readAll(fileBus, "t.feedback")) as { n: number }[]).map((v) => v.n)).toEqual([
      0, 1,
    ]);
    expect(await readAll(fileBus, "t.telemetry")).toHaveLength(8);
  });

  it("close gives up after its timeout while the bus stays down and reports what is left", async () => {
    bus.down = true;
    const queue = new EventQueue({ bus, metrics, capacity: 10 });
    queue.offer("feedback", [event("t.feedback", 1), event("t.feedback", 2)]);
    const started = Date.now();
    expect(await queue.close(300)).toBe(2);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(queue.offer("feedback", [event("t.feedback", 3)])).toBe(false);
  });

  describe("deliver (durable feedback)", () => {
    it("resolves each call only once its events are stored, and concurrent calls share one publish (group commit)", async () => {
      const gated = withGate(fileBus);
      const queue = new EventQueue({ bus: gated.bus, metrics, capacity: 1_000 });
      const storedAtResolve: number[] = [];
      const calls = Array.from({ length: 50 }, (_, c) =>
        queue
          .deliver(
            Array.from({ length: 10 }, (_, i) => event("t.feedback", c * 10 + i)),
            5_000,
          )
          .then(async () => storedAtResolve.push(await storedCount(fileBus, "t.feedback"))),
      );
      await Promise.all(calls);
      // every caller saw at least its own events (and all before them) on the log when it resolved
      expect(Math.min(...storedAtResolve)).toBeGreaterThanOrEqual(10);
      expect(await storedCount(fileBus, "t.feedback")).toBe(500);
      // 50 calls queued before the pump woke: far fewer publishes than calls
      expect(gated.state.calls).toBeLessThan(5);
      const values = (await readAll(fileBus, "t.feedback")) as { n: number }[];
      expect(values.map((v) => v.n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 500 }, (_, n) => n),
      );
      expect(queue.depth).toBe(0);
    });

    it("while the bus is down: rejects with DeliveryTimeout after the bound, and the events leave the queue (never published later)", async () => {
      bus.down = true;
      const queue = new EventQueue({ bus, metrics, capacity: 100 });
      const started = Date.now();
      const error = await queue
        .deliver([event("t.feedback", 1), event("t.feedback", 2)], 300)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryTimeout);
      expect((error as DeliveryTimeout).retryAfterS).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(await metrics.value(metrics.feedbackTimeouts)).toBe(1);
      // the pump's failed attempt dropped them, or they were taken out while waiting
      await waitFor(() => queue.depth === 0, { timeoutMs: 5_000, description: "queue empty" });
      bus.down = false;
      await queue.deliver([event("t.feedback", 3)], 5_000);
      expect(((await readAll(fileBus, "t.feedback")) as { n: number }[]).map((v) => v.n)).toEqual([
        3,
      ]);
    });

    it("counts the events of a publish in flight at the bound: that publish may still store them; the waiting ones are never sent", async () => {
      const gated = withGate(fileBus);
      let release!: () => void;
      gated.state.hold = new Promise<void>((resolve) => (release = resolve));
      const queue = new EventQueue({ bus: gated.bus, metrics, capacity: 100, lingerMs: 0 });
      const first = queue.deliver([event("t.feedback", 1), event("t.feedback", 2)], 200);
      await waitFor(() => gated.state.calls === 1, { description: "publish in flight" });
      const second = queue.deliver([event("t.feedback", 3)], 200);
      const [a, b] = await Promise.all([first.catch((e: unknown) => e), second.catch((e) => e)]);
      expect(a).toBeInstanceOf(DeliveryTimeout);
      expect((a as DeliveryTimeout).inFlight).toBe(2);
      expect(b).toBeInstanceOf(DeliveryTimeout);
      expect((b as DeliveryTimeout).inFlight).toBe(0);
      gated.state.hold = null;
      release();
      await waitFor(() => queue.depth === 0, { description: "in-flight publish done" });
      // the publish in flight completed; the waiting event was taken out and never sent
      expect(((await readAll(fileBus, "t.feedback")) as { n: number }[]).map((v) => v.n)).toEqual([
        1, 2,
      ]);
    });

    it("a publish in flight that fails after its caller gave up is not retried", async () => {
      const gated = withGate(fileBus);
      let release!: () => void;
      gated.state.hold = new Promise<void>((resolve) => (release = resolve));
      gated.state.fail = true;
      const queue = new EventQueue({ bus: gated.bus, metrics, capacity: 100, lingerMs: 0 });
      const error = await queue.deliver([event("t.feedback", 1)], 200).catch((e: unknown) => e);
      expect((error as DeliveryTimeout).inFlight).toBe(1);
      gated.state.hold = null;
      release();
      await waitFor(() => queue.depth === 0, { description: "failed batch dropped" });
      gated.state.fail = false;
      await queue.deliver([event("t.feedback", 2)], 5_000);
      expect(((await readAll(fileBus, "t.feedback")) as { n: number }[]).map((v) => v.n)).toEqual([
        2,
      ]);
    });

    it("a publish the bus stopped waiting for while still sending it is waited for, never sent a second time", async () => {
      let calls = 0;
      let release!: () => void;
      const sending = Object.create(fileBus) as EventBus;
      sending.publishBatch = async (topic, messages) => {
        calls += 1;
        if (calls > 1) return fileBus.publishBatch(topic, messages);
        // The first publish is still being sent when the bus's deadline passes; it lands later.
        const gate = new Promise<void>((resolve) => (release = resolve));
        throw new PublishOutcomeUnknown(
          "deadline passed while sending (test)",
          gate.then(() => fileBus.publishBatch(topic, messages)),
        );
      };
      const queue = new EventQueue({ bus: sending, metrics, capacity: 100, lingerMs: 0 });
      const first = queue.deliver([event("t.feedback", 1)], 5_000);
      await waitFor(() => calls === 1, { description: "the first publish" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = queue.deliver([event("t.feedback", 2)], 5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(calls, "nothing sent while the first outcome is unknown").toBe(1);
      release();
      await Promise.all([first, second]);
      expect(((await readAll(fileBus, "t.feedback")) as { n: number }[]).map((v) => v.n)).toEqual([
        1, 2,
      ]);
    });

    it("a publish round carries at most batchBytes (JSON text counted by its length), all topics at once", async () => {
      const gated = withGate(fileBus);
      const sizes: number[] = [];
      const inner = gated.bus.publishBatch;
      gated.bus.publishBatch = (topic, messages) => {
        sizes.push(messages.length);
        return inner(topic, messages);
      };
      const queue = new EventQueue({ bus: gated.bus, metrics, capacity: 100, batchBytes: 2_500 });
      const big = (topic: string, n: number) => ({
        topic,
        key: "u",
        value: new JsonText(JSON.stringify({ n, pad: "x".repeat(1_000) })),
      });
      await Promise.all([
        queue.deliver(
          Array.from({ length: 10 }, (_, n) => big(n % 2 ? "t.telemetry" : "t.feedback", n)),
          5_000,
        ),
        // larger than the bound on its own: still published, alone
        queue.deliver(
          [
            big("t.feedback", 10),
            {
              ...big("t.feedback", 11),
              value: new JsonText(JSON.stringify({ pad: "y".repeat(5_000) })),
            },
          ],
          5_000,
        ),
      ]);
      // ~1,050 bytes each: two per round, split over the two topics (one publish each)
      expect(Math.max(...sizes)).toBe(1);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
      expect(await storedCount(fileBus, "t.feedback")).toBe(7);
      expect(await storedCount(fileBus, "t.telemetry")).toBe(5);
    });

    it("refuses at once when the queue has no room, and close rejects the calls still waiting", async () => {
      bus.down = true;
      const queue = new EventQueue({ bus, metrics, capacity: 3 });
      const waiting = queue.deliver([event("t.feedback", 1), event("t.feedback", 2)], 60_000);
      await expect(
        queue.deliver([event("t.feedback", 3), event("t.feedback", 4)], 60_000),
      ).rejects.toThrow(/queue is full/);
      expect(await metrics.value(metrics.eventsDropped, { kind: "feedback" })).toBe(2);
      expect(await queue.close(100)).toBe(2);
      await expect(waiting).rejects.toThrow(/shutting down/);
    });
  });
});
