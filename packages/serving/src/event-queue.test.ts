import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BusUnavailable, openFileLogBus, type EventBus, type FileLogBus } from "@reco/bus";
import { waitFor } from "@reco/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventQueue } from "./event-queue.ts";
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
});
