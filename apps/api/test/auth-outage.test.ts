import { openDatabase, type Database } from "@reco/db";
import {
  ApiKeyStore,
  DEFAULT_AUTH_CACHE_MS,
  DEFAULT_AUTH_STALE_MS,
  ServingMetrics,
  generateApiKey,
} from "@reco/serving";
import { startPrivatePostgres, waitFor, type PrivatePostgres } from "@reco/testkit";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingScope } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";

/**
 * Authentication through a database outage, on a private PostgreSQL this test kills (SIGKILL)
 * and restarts. The api's key store runs on a clock the test moves, so "within the bound" and
 * "after it" do not depend on how fast a loaded machine runs the requests; the database calls,
 * their failures and the HTTP answers are real.
 * `admin` is another process's store (the CLI or another api instance) on the same database.
 */
let postgres: PrivatePostgres;
let db: Database;
let app: FastifyInstance;
let baseUrl: string;
let keys: ApiKeyStore;
let admin: ApiKeyStore;
let clock = Date.now();

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  db = await openDatabase({ databaseUrl: postgres.url });
  keys = new ApiKeyStore(db.prisma, { now: () => clock });
  admin = new ApiKeyStore(db.prisma);
  app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: {},
  });
  await servingScope(
    app,
    { authenticator: keys, metrics: new ServingMetrics({ defaultMetrics: false }) },
    (scope) => {
      scope.get("/whoami", async (request) => ({ name: request.principal?.name }));
    },
  );
  baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await db?.close();
  await postgres?.dispose();
});

async function whoami(key: string) {
  const response = await fetch(`${baseUrl}/whoami`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as { name?: string; error?: { code: string } },
  };
}

describe("API keys while the database is reachable", () => {
  it("a key revoked by another process is refused once the 5 s cache has passed, not before", async () => {
    expect(DEFAULT_AUTH_CACHE_MS).toBeLessThanOrEqual(5_000);
    const { key, prefix } = await admin.create({ name: "soon revoked", role: "client" });
    expect(await whoami(key)).toMatchObject({ status: 200, body: { name: "soon revoked" } });
    await admin.revoke(prefix);
    clock += DEFAULT_AUTH_CACHE_MS - 1;
    expect((await whoami(key)).status).toBe(200); // still inside this process's cache
    clock += 1;
    expect(await whoami(key)).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHORIZED" } },
    });
    clock += 5_000;
    expect((await whoami(key)).status).toBe(401);
  });
});

describe("API keys under made-up keys", () => {
  it("requests with made-up keys keep the store's memory bounded, and a real key still authenticates", async () => {
    const bounded = new ApiKeyStore(db.prisma, { maxCachedKeys: 20 });
    const { key } = await admin.create({ name: "in use", role: "client" });
    expect((await bounded.authenticate(key))?.name).toBe("in use");
    for (let i = 0; i < 200; i += 1) {
      const madeUp = generateApiKey().key; // well formed, never stored
      expect(await bounded.authenticate(madeUp)).toBeNull();
      if (i % 10 === 0) expect((await bounded.authenticate(key))?.name).toBe("in use");
    }
    expect(bounded.cachedKeys).toBe(20);
    expect(() => new ApiKeyStore(db.prisma, { maxCachedKeys: 0 })).toThrow(/maxCachedKeys/);
  });
});

describe("API keys while the database is down", () => {
  it("known keys keep working from last-known-good for the bound, then 503; unknown keys 503; revoked ones stay refused", async () => {
    const known = await admin.create({ name: "known", role: "client" });
    const revoked = await admin.create({ name: "revoked", role: "client" });
    const unknown = await admin.create({ name: "never presented", role: "client" });
    await admin.revoke(revoked.prefix);
    expect((await whoami(known.key)).status).toBe(200);
    expect((await whoami(revoked.key)).status).toBe(401);
    const confirmedAt = clock;

    await postgres.kill(); // SIGKILL: connections refused from now on
    try {
      clock += DEFAULT_AUTH_CACHE_MS + 1; // past the cache: every lookup asks the database again
      expect(await whoami(known.key)).toMatchObject({ status: 200, body: { name: "known" } });
      expect((await whoami(revoked.key)).status).toBe(401);
      const never = await whoami(unknown.key);
      expect(never).toMatchObject({ status: 503, body: { error: { code: "UNAVAILABLE" } } });
      expect(Number(never.retryAfter)).toBeGreaterThanOrEqual(1);

      clock = confirmedAt + DEFAULT_AUTH_STALE_MS - 1; // the last moment of the bound
      expect((await whoami(known.key)).status).toBe(200);
      clock = confirmedAt + DEFAULT_AUTH_STALE_MS; // the bound has passed
      const expired = await whoami(known.key);
      expect(expired).toMatchObject({ status: 503, body: { error: { code: "UNAVAILABLE" } } });
      expect((await whoami(revoked.key)).status).toBe(503);
    } finally {
      await postgres.restart();
    }
    // back: confirmed afresh, and working again
    const again = await waitFor(
      async () => {
        const answer = await whoami(known.key);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: "the known key accepted again" },
    );
    expect(again.body.name).toBe("known");
    expect((await whoami(unknown.key)).status).toBe(200);
  }, 120_000);
});
