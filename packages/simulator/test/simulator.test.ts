import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runSimulation, type ReplayUser, retryAfterMs } from "../src/index.ts";

/**
 * A stand-in for the api's two public routes, recording what it is sent: GET /recommend answers
 * the user's held-out future items first (an oracle model) with a recId per answer, POST /feedback
 * accepts. `throttleFirst` answers the first N recommendation requests 429 with Retry-After: 1.
 */
async function stubApi({ throttleFirst = 0 } = {}) {
  const sent: { at: number; method: string; url: string; body?: unknown }[] = [];
  let throttled = 0;
  const answers = new Map<string, number>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      const body = text ? JSON.parse(text) : undefined;
      sent.push({ at: performance.now(), method: request.method!, url: request.url!, body });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(value));
      };
      if (request.headers.authorization !== "Bearer test-key")
        return json(401, { error: { code: "UNAUTHENTICATED", message: "bad key" } });
      const match = /^\/recommend\/([^?]+)\?k=(\d+)$/.exec(request.url!);
      if (request.method === "GET" && match) {
        if (throttled < throttleFirst) {
          throttled += 1;
          return json(
            429,
            { error: { code: "RATE_LIMITED", message: "slow down" } },
            {
              "retry-after": "1",
            },
          );
        }
        const userId = decodeURIComponent(match[1]!);
        const n = (answers.get(userId) ?? 0) + 1;
        answers.set(userId, n);
        const base = userId.split("-").at(-1)!;
        const items = [`${base}-f1`, `${base}-f2`, "other-1", "other-2"];
        return json(200, {
          recId: `${userId}-${n}`,
          userId,
          items: items.map((itemId, i) => ({ itemId, score: 1 - i / 10, reason: "test" })),
          modelVersion: "oracle:1",
          fallback: false,
          cached: false,
        });
      }
      if (request.method === "POST" && request.url === "/feedback")
        return json(202, { accepted: (body as { events: unknown[] }).events.length });
      return json(404, { error: { code: "NOT_FOUND", message: request.url } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, sent, close: () => new Promise((resolve) => server.close(resolve)) };
}

const rating = (itemId: string, t: number) => ({ itemId, rating: 4, timestamp: t });
const users: ReplayUser[] = ["a", "b", "c", "d"].map((u) => ({
  userId: u,
  past: [1, 2, 3, 4, 5].map((i) => rating(`${u}-p${i}`, i)),
  future: [rating(`${u}-f1`, 10), rating(`${u}-f2`, 11)],
}));

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function run(seed: number, options: { throttleFirst?: number; rps?: number } = {}) {
  const api = await stubApi(options);
  closers.push(api.close);
  const stats = await runSimulation({
    api: api.url,
    key: "test-key",
    users,
    userCount: 3,
    rps: options.rps ?? 500,
    durationS: 20,
    seed,
    visitsPerUser: 3,
    progressEveryS: 60,
  });
  return { stats, sent: api.sent };
}

const requestKey = (r: { method: string; url: string; body?: unknown }) =>
  `${r.method} ${r.url} ${JSON.stringify(r.body ?? null)}`;

describe("runSimulation against a stand-in api", () => {
  it("sends each user's past once as rate events, then visits; clicks carry the answer's recId", async () => {
    const { stats, sent } = await run(3);
    const history = sent.filter((r) =>
      (r.body as { events?: { eventId?: string }[] })?.events?.[0]?.eventId?.includes("-past-"),
    );
    expect(history).toHaveLength(3); // three users drawn
    for (const request of history) {
      const events = (request.body as { events: { type: string; itemId: string }[] }).events;
      expect(events.map((e) => e.type)).toEqual(["rate", "rate", "rate", "rate", "rate"]);
      expect(events.every((e) => /-p\d$/.test(e.itemId))).toBe(true); // never a future item
    }
    expect(stats.recommendations).toBe(9); // 3 users × 3 visits
    const clicks = sent.flatMap((r) =>
      (
        (r.body as { events?: { type: string; recId?: string; userId: string }[] })?.events ?? []
      ).filter((e) => e.type === "click"),
    );
    expect(clicks.length).toBe(stats.clicks);
    const recommendedUsers = new Set(
      sent
        .filter((r) => r.method === "GET")
        .map((r) => `${decodeURIComponent(r.url.split("/")[2]!.split("?")[0]!)}`),
    );
    for (const click of clicks) {
      expect(click.recId).toMatch(new RegExp(`^${click.userId}-[123]$`));
      expect(recommendedUsers.has(click.userId)).toBe(true);
    }
    // the stand-in serves both future items first: a click on one removes it from the future, so
    // no user clicks more hits than they have future items
    expect(stats.hitClicks).toBeLessThanOrEqual(6);
    expect(stats.requests).toBe(sent.length);
    expect(stats.errors).toBe(0);
  });

  it("the same seed sends the same requests; another seed draws other choices", async () => {
    const first = await run(11);
    const second = await run(11);
    expect(second.sent.map(requestKey).sort()).toEqual(first.sent.map(requestKey).sort());
    const seeds = await Promise.all([12, 13, 14, 15].map((seed) => run(seed)));
    const differs = seeds.some(
      ({ sent }) =>
        JSON.stringify(sent.map(requestKey).sort()) !==
        JSON.stringify(first.sent.map(requestKey).sort()),
    );
    expect(differs).toBe(true);
  });

  it("a 429 is retried after its Retry-After, and counted as throttled, not as an error", async () => {
    const { stats, sent } = await run(5, { throttleFirst: 1 });
    expect(stats.throttled).toBe(1);
    expect(stats.errors).toBe(0);
    expect(stats.recommendations).toBe(9);
    const gets = sent.filter((r) => r.method === "GET");
    const retry = gets.find((r, i) => i > 0 && r.url === gets[0]!.url)!;
    expect(retry.at - gets[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("keeps to the request rate: after the bucket's first 10 tokens, one request per 100 ms at 10 req/s", async () => {
    const { stats } = await run(7, { rps: 10 });
    // a full bucket of 10, then one token per 100 ms: the span is bounded below by the rate
    expect(stats.seconds).toBeGreaterThanOrEqual(((stats.requests - 10) / 10) * 0.95);
  });
});

describe("runSimulation without a visit limit", () => {
  it("a user leaves after sessionVisits visits (or once their future is met) and an undrawn one, later a new generation, takes their place", async () => {
    const api = await stubApi();
    closers.push(api.close);
    const stats = await runSimulation({
      api: api.url,
      key: "test-key",
      users,
      userCount: 2,
      rps: 400,
      durationS: 1.5,
      seed: 3,
      sessionVisits: 3,
      concurrency: 2,
      progressEveryS: 60,
    });
    const visits = new Map<string, number>();
    for (const r of api.sent.filter((r) => r.method === "GET")) {
      const id = decodeURIComponent(r.url.split("/")[2]!.split("?")[0]!);
      visits.set(id, (visits.get(id) ?? 0) + 1);
    }
    expect(stats.errors).toBe(0);
    expect(Math.max(...visits.values())).toBeLessThanOrEqual(3);
    // all four replay users were drawn, then came back as generation 1, 2, …
    const base = new Set([...visits.keys()].map((id) => id.split("-").at(-1)));
    expect(base).toEqual(new Set(["a", "b", "c", "d"]));
    expect([...visits.keys()].some((id) => id.startsWith("sim3-g1-"))).toBe(true);
    // every user's history was sent before their first recommendation
    for (const id of visits.keys()) {
      const first = api.sent.findIndex((r) =>
        r.url.includes(`/recommend/${encodeURIComponent(id)}?`),
      );
      const history = api.sent.findIndex((r) =>
        ((r.body as { events?: { userId: string; eventId?: string }[] })?.events ?? []).some(
          (e) => e.userId === id && e.eventId?.includes("-past-"),
        ),
      );
      expect(history).toBeGreaterThanOrEqual(0);
      expect(history).toBeLessThan(first);
    }
  });
});

describe("retryAfterMs", () => {
  it("reads seconds or an HTTP date, and falls back to 1 s", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs("0")).toBe(0);
    const now = Date.parse("2026-12-04T12:00:00Z");
    expect(retryAfterMs("Fri, 04 Dec 2026 12:00:03 GMT", now)).toBe(3000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs("soon")).toBe(1000);
  });
});
