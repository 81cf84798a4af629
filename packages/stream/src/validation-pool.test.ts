import { afterEach, describe, expect, it } from "vitest";
import { ValidationPool } from "./validation-pool.ts";

const event = (delivery: number, i: number) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      eventId: `d${delivery}-e${i}`,
      eventTime: new Date(Date.UTC(2026, 0, 5, 10, delivery, i)).toISOString(),
      userId: "u1",
      type: "click",
      itemId: `item-${i}`,
    }),
  );

/** Delivery d holds d + 3 messages; every (d + 2)-th one is not JSON, so each delivery differs. */
function delivery(d: number): Buffer[] {
  return Array.from({ length: d + 3 }, (_, i) =>
    i % (d + 2) === 1 ? Buffer.from(`{not json ${d}`) : event(d, i),
  );
}

describe("ValidationPool", () => {
  let pool: ValidationPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it("answers each delivery for itself with several threads, as the inline pool does", async () => {
    const inline = ValidationPool.create(0);
    pool = ValidationPool.create(2);
    expect([inline.size, pool.size]).toEqual([0, 2]);
    await pool.ready();
    const deliveries = Array.from({ length: 9 }, (_, d) => delivery(d));
    // All in flight at once: replies of the two threads interleave.
    const threaded = await Promise.all(
      deliveries.map((values) => pool!.validate(values, { events: true, features: true })),
    );
    for (const [d, values] of deliveries.entries()) {
      const expected = await inline.validate(values, { events: true, features: true });
      const reply = threaded[d]!;
      expect([...reply.valid]).toEqual([...expected.valid]);
      expect(reply.reasons).toEqual(expected.reasons);
      expect(reply.events).toEqual(expected.events);
      // Feature updates cross the thread intact (typed arrays are transferred, not copied).
      expect(reply.features).toEqual(expected.features);
      expect(reply.features!.texts.length).toBeGreaterThan(0);
      expect(reply.firstEventTime).toBe(expected.firstEventTime);
      expect(reply.valid.filter((v) => v === 0).length).toBeGreaterThan(0);
    }
  });

  it("rejects deliveries still in flight when closed", async () => {
    pool = ValidationPool.create(2);
    await pool.ready();
    const large = Array.from({ length: 20_000 }, (_, i) => event(1, i));
    const inFlight = Promise.allSettled([pool.validate(large), pool.validate(large)]);
    await pool.close();
    const outcomes = await inFlight;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    for (const outcome of outcomes)
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/validation thread closed/);
  });
});
