import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { RolloutTransitionNotice } from "./service.ts";
import { WebhookSender } from "./webhooks.ts";

interface Received {
  body: string;
  signature: string | undefined;
  event: string | undefined;
  at: number;
}

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

/** A receiver on loopback answering each delivery with the next status of `statuses` (then 200). */
async function receiver(statuses: number[], delayMs = 0) {
  const received: Received[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({
        body,
        signature: req.headers["x-reco-signature-256"] as string | undefined,
        event: req.headers["x-reco-event"] as string | undefined,
        at: Date.now(),
      });
      setTimeout(() => {
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server!.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

function notice(url: string, secret: string): RolloutTransitionNotice {
  return {
    rollout: {
      id: 7,
      modelName: "ials",
      status: "rolled_back",
      step: 0,
      trafficPct: 0,
      version: 3,
      candidate: { id: 2, name: "ials", version: "v2", artifactPath: "/r/ials/v2" },
      baseline: { id: 1, name: "ials", version: "v1", artifactPath: "/r/ials/v1" },
    } as RolloutTransitionNotice["rollout"],
    from: "progressing",
    to: "rolled_back",
    step: 0,
    action: "rollback",
    actor: "controller",
    reason: "gate failed: error_rate",
    details: { users: { candidate: 40, stable: 700 } },
    webhook: { url, secret },
  };
}

describe("rollout webhooks", () => {
  it("signs the body with HMAC-SHA256 of the rollout's secret and retries with backoff until 2xx", async () => {
    const { url, received } = await receiver([500, 503]);
    const results: { ok: boolean; attempts: number }[] = [];
    const sender = new WebhookSender({ baseDelayMs: 50, onResult: (r) => results.push(r) });
    sender.send(notice(url, "s3cret"));
    await sender.close(5_000);
    expect(results).toEqual([expect.objectContaining({ ok: true, attempts: 3 })]);
    expect(received).toHaveLength(3);
    const expected = `sha256=${createHmac("sha256", "s3cret").update(received[0]!.body).digest("hex")}`;
    expect(received.map((r) => r.signature)).toEqual([expected, expected, expected]);
    expect(received[0]!.event).toBe("rollout.transition");
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      rolloutId: 7,
      from: "progressing",
      to: "rolled_back",
      action: "rollback",
      rollout: { candidate: "ials@v2", baseline: "ials@v1" },
    });
    // backoff: the gaps grow (50 ms, then 100 ms)
    const gaps = [received[1]!.at - received[0]!.at, received[2]!.at - received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
  });

  it("gives up on a 4xx at once and reports an unreachable receiver after its attempts", async () => {
    const { url, received } = await receiver([404]);
    const results: { ok: boolean; attempts: number; status?: number; error?: string }[] = [];
    const sender = new WebhookSender({
      baseDelayMs: 10,
      attempts: 3,
      onResult: (r) => results.push(r),
    });
    sender.send(notice(url, "k"));
    sender.send(notice("http://127.0.0.1:9/closed", "k"));
    await sender.close(5_000);
    expect(received).toHaveLength(1);
    expect(results).toContainEqual(expect.objectContaining({ ok: false, status: 404 }));
    expect(results).toContainEqual(expect.objectContaining({ ok: false, attempts: 3 }));
  });

  it("a slow receiver delays nothing: many sends return at once", async () => {
    const { url } = await receiver([], 1_000);
    const sender = new WebhookSender({ timeoutMs: 2_000 });
    const started = performance.now();
    for (let i = 0; i < 50; i++) sender.send(notice(url, "k"));
    // fifty deliveries to a receiver that takes a second each: sending them took far less
    expect(performance.now() - started).toBeLessThan(500);
    await sender.close(3_000);
  });
});
