import { randomUUID } from "node:crypto";
import path from "node:path";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startServingApp, type ServingApp } from "./serving-fixture.ts";

let server: ServingApp;
const BODY_LIMIT = 64 * 1024;
const BURST = 5;

beforeAll(async () => {
  server = await startServingApp({
    cache: new MemoryCache(),
    bus: (dataDir) => openFileLogBus({ dir: path.join(dataDir, "events") }),
    topicPrefix: `bad${randomUUID().slice(0, 6)}`,
    bodyLimitBytes: BODY_LIMIT,
    serving: { rateLimitPerSecond: 1, rateLimitBurst: BURST },
  });
});
afterAll(async () => {
  await server?.close();
});

/** A fresh client key per case, so the small rate limit of this server only bites where intended. */
async function freshKey(): Promise<string> {
  return (await server.keys.create({ name: `case-${randomUUID()}`, role: "client" })).key;
}

const rate = { userId: "1", itemId: "2", type: "rate", value: 4 };
const long = "x".repeat(10 * 1024);

interface Case {
  name: string;
  path: string;
  method?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** "fresh" (default): a new client key; "none": no key; or a function giving the key to send. */
  key?: "fresh" | "none" | (() => string | Promise<string>);
  status: number;
  code?: string;
}

const cases: Case[] = [
  {
    name: "malformed JSON",
    path: "/feedback",
    rawBody: '{"userId": "1", ',
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "JSON array body",
    path: "/feedback",
    rawBody: "[1,2]",
    status: 400,
    code: "BAD_REQUEST",
  },
  { name: "JSON null body", path: "/feedback", rawBody: "null", status: 400, code: "BAD_REQUEST" },
  { name: "empty JSON body", path: "/feedback", rawBody: "", status: 400, code: "BAD_REQUEST" },
  {
    name: "wrong content type",
    path: "/feedback",
    rawBody: "userId=1",
    headers: { "content-type": "text/plain" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "__proto__ key",
    path: "/feedback",
    rawBody: '{"__proto__":{"admin":true},"userId":"1","itemId":"2","type":"click"}',
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId of the wrong type",
    path: "/feedback",
    body: { ...rate, userId: 1 },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "unknown event type",
    path: "/feedback",
    body: { ...rate, type: "like" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "rate without value",
    path: "/feedback",
    body: { userId: "1", itemId: "2", type: "rate" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "rating out of range",
    path: "/feedback",
    body: { ...rate, value: 6 },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "rating as a string",
    path: "/feedback",
    body: { ...rate, value: "4" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "rating 1e999 (Infinity)",
    path: "/feedback",
    rawBody: '{"userId":"1","itemId":"2","type":"rate","value":1e999}',
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "watch progress over 1",
    path: "/feedback",
    body: { userId: "1", itemId: "2", type: "watch", value: 2 },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "click with a value",
    path: "/feedback",
    body: { userId: "1", itemId: "2", type: "click", value: 1 },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "unknown field",
    path: "/feedback",
    body: { ...rate, admin: true },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "timestamp not ISO-8601",
    path: "/feedback",
    body: { ...rate, ts: "yesterday" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "itemId of 10 kB",
    path: "/feedback",
    body: { ...rate, itemId: long },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "recId of 10 kB",
    path: "/feedback",
    body: { ...rate, recId: long },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId with a NUL character",
    path: "/feedback",
    body: { ...rate, userId: "a\u0000b" },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "empty batch",
    path: "/feedback",
    body: { events: [] },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "batch over 1000 events",
    path: "/feedback",
    body: {
      events: Array.from({ length: 1001 }, () => ({ userId: "1", itemId: "2", type: "click" })),
    },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "bad event inside a batch",
    path: "/feedback",
    body: { events: [rate, { ...rate, value: 9 }] },
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "body over the limit",
    path: "/feedback",
    rawBody: JSON.stringify({ ...rate, pad: "y".repeat(BODY_LIMIT) }),
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
  { name: "k = 0", path: "/recommend/1?k=0", status: 400, code: "BAD_REQUEST" },
  { name: "k = -1", path: "/recommend/1?k=-1", status: 400, code: "BAD_REQUEST" },
  { name: "k = 10^6", path: "/recommend/1?k=1000000", status: 400, code: "BAD_REQUEST" },
  { name: "k not a number", path: "/recommend/1?k=abc", status: 400, code: "BAD_REQUEST" },
  { name: "k fractional", path: "/recommend/1?k=1.5", status: 400, code: "BAD_REQUEST" },
  { name: "k given twice", path: "/recommend/1?k=1&k=2", status: 400, code: "BAD_REQUEST" },
  {
    name: "unknown query parameter",
    path: "/recommend/1?debug=1",
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "country too long",
    path: "/recommend/1?country=abcdefghijk",
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "exclude list over 500 ids",
    path: `/recommend/1?exclude=${Array.from({ length: 501 }, (_, i) => i).join(",")}`,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId of 10 kB in the path",
    path: `/recommend/${long}`,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId of 257 characters (one over the limit)",
    path: `/recommend/${"u".repeat(257)}`,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId of 256 characters → valid answer",
    path: `/recommend/${"u".repeat(256)}?k=3`,
    status: 200,
  },
  {
    name: "userId with a DEL character",
    path: "/recommend/a%7Fb",
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "userId with control characters",
    path: "/recommend/a%01b",
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "unicode userId → valid answer",
    path: `/recommend/${encodeURIComponent("用户✓🙂")}?k=3`,
    status: 200,
  },
  { name: "unknown user → popularity", path: "/recommend/never-seen-user?k=3", status: 200 },
  { name: "unknown item on /similar", path: "/similar/99999", status: 404, code: "NOT_FOUND" },
  { name: "unknown item on /items", path: "/items/nope", status: 404, code: "NOT_FOUND" },
  { name: "similar with k = 0", path: "/similar/1?k=0", status: 400, code: "BAD_REQUEST" },
  { name: "missing key", path: "/recommend/1", key: "none", status: 401, code: "UNAUTHORIZED" },
  {
    name: "malformed key",
    path: "/recommend/1",
    headers: { authorization: "Bearer garbage" },
    key: "none",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "well-formed but unknown key",
    path: "/recommend/1",
    key: () => `reco_000000000000_${"A".repeat(43)}`,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "revoked key",
    path: "/recommend/1",
    key: () => server.revokedKey,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "wrong role (viewer key on /recommend)",
    path: "/recommend/1",
    key: () => server.viewerKey,
    status: 403,
    code: "FORBIDDEN",
  },
  { name: "unknown route", path: "/recommendations/1", status: 404, code: "NOT_FOUND" },
  { name: "wrong method", path: "/feedback", method: "DELETE", status: 404, code: "NOT_FOUND" },
];

describe("bad input never gets a 5xx", () => {
  it.each(cases)("$name → $status", async (c) => {
    const key =
      c.key === "none"
        ? undefined
        : c.key === undefined || c.key === "fresh"
          ? await freshKey()
          : await c.key();
    const answer = await call(server, c.path, {
      key,
      method: c.method,
      body: c.body,
      rawBody: c.rawBody,
      headers: c.headers,
    });
    expect(answer.status).toBe(c.status);
    if (c.code) {
      expect(answer.body).toMatchObject({ error: { code: c.code } });
      expect(typeof answer.body.error.message).toBe("string");
      expect(answer.body.error.message.length).toBeGreaterThan(0);
    } else {
      expect(answer.body.items.length).toBeGreaterThan(0);
    }
  });

  it("names the bad field in the error", async () => {
    const answer = await call(server, "/feedback", {
      key: await freshKey(),
      body: { events: [rate, { ...rate, value: 9 }] },
    });
    expect(answer.body.error.message).toMatch(/events\.1\.value/);
    expect(answer.body.error.details.issues[0]).toMatchObject({ path: "events.1.value" });
  });

  it("X-API-Key works as well as Bearer", async () => {
    const answer = await call(server, "/recommend/1?k=2", {
      headers: { "x-api-key": await freshKey() },
    });
    expect(answer.status).toBe(200);
  });

  it("rate limit exceeded → 429 with Retry-After, per key", async () => {
    const key = await freshKey();
    const answers = [];
    for (let i = 0; i < BURST + 1; i += 1)
      answers.push(await call(server, "/recommend/1?k=1", { key }));
    expect(answers.slice(0, BURST).every((a) => a.status === 200)).toBe(true);
    const limited = answers[BURST]!;
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // another key is not affected
    expect((await call(server, "/recommend/1?k=1", { key: await freshKey() })).status).toBe(200);
  });

  it("the server is healthy afterwards and still answers correctly", async () => {
    expect((await call(server, "/healthz")).status).toBe(200);
    expect((await call(server, "/readyz")).status).toBe(200);
    const answer = await call(server, "/recommend/2?k=4", { key: await freshKey() });
    expect(answer.status).toBe(200);
    expect(answer.body.items).toHaveLength(4);
    const metrics = await call(server, "/metrics");
    expect(metrics.body).not.toMatch(/status="5\d\d"/);
  });
});
