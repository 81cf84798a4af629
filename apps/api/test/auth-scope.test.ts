import { ApiKeyStore, createCatalogStats, ServingMetrics, TokenBucketLimiter } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingScope } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { demoData, type DemoData } from "./fixtures.ts";

const BURST = 3;
let data: DemoData;
let app: FastifyInstance;
let baseUrl: string;
let keys: ApiKeyStore;
let metrics: ServingMetrics;

beforeAll(async () => {
  data = await demoData({ items: 3, users: 1, ratingsPerUser: 1 });
  keys = new ApiKeyStore(data.db.prisma);
  metrics = new ServingMetrics({ defaultMetrics: false });
  app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: createCatalogStats({ prisma: data.db.prisma, snapshotsRoot: data.snapshotsRoot }),
      apiKeys: keys,
    },
    readiness: {},
  });
  // A route someone adds later: it goes into the serving scope and says nothing about keys.
  await servingScope(
    app,
    {
      authenticator: keys,
      limiter: new TokenBucketLimiter({ ratePerSecond: 0.001, burst: BURST }),
      metrics,
    },
    (scope) => {
      scope.get("/extra/:id", async (request) => ({
        id: (request.params as { id: string }).id,
        prefix: request.principal?.prefix,
      }));
    },
  );
  // The same route outside the scope: the scope's check must not leak onto it.
  app.get("/outside/:id", async () => ({ open: true }));
  baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app?.close();
  await data?.cleanup();
});

async function get(path: string, key?: string) {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe("a route registered in the serving scope", () => {
  it("is refused without a key (401 in the error shape), though it declares no check itself", async () => {
    expect(await get("/extra/1")).toMatchObject({
      status: 401,
      body: {
        error: { code: "UNAUTHORIZED", message: expect.stringMatching(/API key is required/) },
      },
    });
    expect(await get("/outside/1")).toMatchObject({ status: 200, body: { open: true } });
  });

  it("refuses an unknown key (401) and a viewer key (403), and serves a client key", async () => {
    expect(await get("/extra/1", "reco_unknown_secret")).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHORIZED", message: "API key unknown or revoked" } },
    });
    const viewer = await keys.create({ name: "scope-viewer", role: "viewer" });
    expect(await get("/extra/1", viewer.key)).toMatchObject({
      status: 403,
      body: { error: { code: "FORBIDDEN" } },
    });
    const client = await keys.create({ name: "scope-client", role: "client" });
    expect(await get("/extra/7", client.key)).toEqual({
      status: 200,
      headers: expect.anything(),
      body: { id: "7", prefix: client.prefix },
    });
  });

  it("charges the key's token bucket: 429 with Retry-After past the burst, counted in the metrics", async () => {
    const client = await keys.create({ name: "scope-burst", role: "client" });
    for (let i = 0; i < BURST; i += 1) expect((await get("/extra/1", client.key)).status).toBe(200);
    const limited = await get("/extra/1", client.key);
    expect(limited).toMatchObject({ status: 429, body: { error: { code: "TOO_MANY_REQUESTS" } } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await metrics.rateLimited.get()).values[0]?.value).toBe(1);
  });

  it("answers 503 when the key store cannot be reached", async () => {
    const client = await keys.create({ name: "scope-outage", role: "client" });
    await data.db.close();
    expect(await get("/extra/1", client.key)).toMatchObject({
      status: 503,
      body: { error: { code: "UNAVAILABLE" } },
    });
  });
});
