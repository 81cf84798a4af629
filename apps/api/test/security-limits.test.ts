/**
 * Request size limits on every body-accepting route (enumerated from Fastify, so a new one must be
 * given its limit here) and the security headers on every answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BODY_LIMIT_BYTES,
  listRoutes,
  send,
  startSecurityApp,
  TRPC_BODY_LIMIT_BYTES,
  type SecurityApp,
} from "./security-fixture.ts";

/**
 * The limit each body-accepting route must enforce, from apps/api/README.md: the serving routes
 * `BODY_LIMIT_BYTES` (the fixture sets 64 KiB), the experiment exposure/outcome bodies 4 KiB,
 * tRPC its own limit (the fixture sets 32 KiB), the item API's bulk upsert 8 MiB.
 */
const LIMITS: Record<string, { limit: number; path: string; role: "client" | "admin" }> = {
  "POST /feedback": { limit: BODY_LIMIT_BYTES, path: "/feedback", role: "client" },
  "POST /experiments/:key/exposures": {
    limit: 4 * 1024,
    path: "/experiments/e1/exposures",
    role: "client",
  },
  "POST /experiments/:key/outcomes": {
    limit: 4 * 1024,
    path: "/experiments/e1/outcomes",
    role: "client",
  },
  "POST /trpc/:path": { limit: TRPC_BODY_LIMIT_BYTES, path: "/trpc/apiKeys.create", role: "admin" },
  // The item API: the serving limit for one item, 8 MiB for a bulk of up to 1,000.
  "PUT /items/:itemId": { limit: BODY_LIMIT_BYTES, path: "/items/5", role: "admin" },
  "PATCH /items/:itemId": { limit: BODY_LIMIT_BYTES, path: "/items/5", role: "admin" },
  "DELETE /items/:itemId": { limit: BODY_LIMIT_BYTES, path: "/items/5", role: "admin" },
  "POST /items/bulk": { limit: 8 * 1024 * 1024, path: "/items/bulk", role: "admin" },
  // User deletion takes no body, but a body sent anyway is bounded like any other (an unknown
  // user, so the at-the-limit request deletes nothing and answers 404).
  "DELETE /users/:userId": { limit: BODY_LIMIT_BYTES, path: "/users/no-such-user", role: "admin" },
};
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE", "QUERY"]);

let server: SecurityApp;

beforeAll(async () => {
  server = await startSecurityApp({ logLevel: "warn" });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

/** A JSON object of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const shell = '{"userId":"3","pad":""}';
  return `{"userId":"3","pad":"${"x".repeat(bytes - shell.length)}"}`;
}

/** The body-accepting routes Fastify has, as `METHOD /path` (one POST for a route of all methods). */
function bodyRoutes(): string[] {
  const routes = listRoutes(server.app);
  const keys = new Set<string>();
  for (const { method, url } of routes) {
    if (!BODY_METHODS.has(method)) continue;
    // A route of all methods (tRPC) is tried with POST; any other body method is listed as it is.
    const hasPost = routes.some((other) => other.url === url && other.method === "POST");
    keys.add(`${hasPost ? "POST" : method} ${url}`);
  }
  return [...keys].sort();
}

describe("request size limits", () => {
  it("every body-accepting route Fastify registered has its limit in the table", () => {
    const routes = bodyRoutes();
    expect(routes.filter((route) => !(route in LIMITS))).toEqual([]);
    expect(Object.keys(LIMITS).filter((route) => !routes.includes(route))).toEqual([]);
  });

  for (const [route, { limit, path, role }] of Object.entries(LIMITS)) {
    const method = route.split(" ")[0]!;
    it(`${route}: one byte over ${limit} → 413 naming the route and the limit; exactly ${limit} is read`, async () => {
      const key = server.keys[role];
      const over = await send(server, method, path, { key, body: jsonOfSize(limit + 1) });
      expect(over.status).toBe(413);
      expect(over.body).toEqual({
        error: {
          code: "PAYLOAD_TOO_LARGE",
          message: `request body too large: ${route} accepts at most ${limit} bytes`,
          details: { limitBytes: limit },
        },
      });
      const at = await send(server, method, path, { key, body: jsonOfSize(limit) });
      expect(at.status).not.toBe(413);
      expect(at.status).toBeLessThan(500);
    });

    if (route !== "POST /trpc/:path")
      // The key is checked on the request line and headers, before the body is read: a caller
      // without a valid key gets 401 however large a body it announces, never 413.
      it(`${route}: without a key, or with an unknown one, an oversized body is refused with 401 before it is read`, async () => {
        for (const key of [undefined, "reco_unknown_0123456789abcdef0123456789abcdef"]) {
          const answer = await send(server, method, path, {
            ...(key ? { key } : {}),
            body: jsonOfSize(limit * 8),
          });
          expect(answer.status).toBe(401);
        }
      });

    it(`${route}: an oversized chunked body (no Content-Length) is cut off with 413 too`, async () => {
      const chunk = new TextEncoder().encode("x".repeat(1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"userId":"3","pad":"'));
          if (sent > limit * 4) {
            controller.enqueue(new TextEncoder().encode('"}'));
            controller.close();
            return;
          }
          controller.enqueue(chunk);
          sent += chunk.length;
        },
      });
      const response = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${server.keys[role]}`,
        },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "PAYLOAD_TOO_LARGE",
      );
    });
  }

  it("tRPC takes JSON bodies only: multipart and octet-stream are refused before anything reads them", async () => {
    for (const contentType of [
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "text/plain",
    ]) {
      const answer = await send(server, "POST", "/trpc/apiKeys.create", {
        key: server.keys.admin,
        body: "x".repeat(TRPC_BODY_LIMIT_BYTES * 2),
        contentType,
      });
      expect(answer.status, contentType).toBe(400);
      expect(answer.body.error.message).toBe(
        `tRPC accepts application/json bodies only, not ${contentType.split(";")[0]}`,
      );
    }
    const keys = await send(server, "GET", "/trpc/apiKeys.list", { key: server.keys.admin });
    expect(keys.body.result.data).toHaveLength(6); // one per role + the revoked one: none created
  });
});

describe("security headers on the api", () => {
  const EXPECTED = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  };

  it("every answer carries them: public, keyed, tRPC, errors, 404", async () => {
    const answers = [
      await send(server, "GET", "/healthz"),
      await send(server, "GET", "/metrics"),
      await send(server, "GET", "/recommend/3", { key: server.keys.client }),
      await send(server, "GET", "/recommend/3"),
      await send(server, "GET", "/trpc/stats.counts", { key: server.keys.viewer }),
      await send(server, "GET", "/no/such/route"),
      await send(server, "POST", "/feedback", { key: server.keys.client, body: "{not json" }),
      await send(server, "GET", "/items/%zz", { key: server.keys.client }), // fails before routing
    ];
    for (const answer of answers)
      for (const [name, value] of Object.entries(EXPECTED))
        expect(answer.headers.get(name), `${name} (status ${answer.status})`).toBe(value);
    expect(answers.map((answer) => answer.status)).toEqual([
      200, 200, 200, 401, 200, 404, 400, 400,
    ]);
  });

  it("an answer to a request with a key is never stored (a new key is shown once)", async () => {
    const created = await send(server, "POST", "/trpc/apiKeys.create", {
      key: server.keys.admin,
      body: JSON.stringify({ name: "headers", role: "client" }),
    });
    expect(created.status).toBe(200);
    expect(created.body.result.data.key).toMatch(/^reco_/);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const viaHeader = await send(server, "GET", "/items/5", {
      key: server.keys.client,
      keyHeader: "x-api-key",
    });
    expect(viaHeader.headers.get("cache-control")).toBe("no-store");
    expect((await send(server, "GET", "/openapi.json")).headers.get("cache-control")).toBeNull();
  });
});
