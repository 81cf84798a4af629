import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AppRouter } from "@reco/api-router";
import { ApiKeyStore, createCatalogStats } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server.ts";
import { demoData, type DemoData } from "./fixtures.ts";

let data: DemoData;
let app: FastifyInstance;
let baseUrl: string;
let keys: ApiKeyStore;
let modelLoaded = true;

beforeAll(async () => {
  data = await demoData({ items: 40, users: 7, ratingsPerUser: 5 });
  keys = new ApiKeyStore(data.db.prisma);
  app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: createCatalogStats({ prisma: data.db.prisma, snapshotsRoot: data.snapshotsRoot }),
      apiKeys: keys,
    },
    readiness: { database: () => data.db.ping(), model: async () => modelLoaded },
    corsOrigins: ["http://dash.example"],
  });
  baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app?.close();
  await data?.cleanup();
});

function client(key?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/trpc`,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      }),
    ],
  });
}

describe("api skeleton", () => {
  it("/healthz answers 200 and echoes a sane x-request-id", async () => {
    const response = await fetch(`${baseUrl}/healthz`, {
      headers: { "x-request-id": "trace-123" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toBe("trace-123");
  });

  it("replaces an unsafe x-request-id with a generated one", async () => {
    const response = await fetch(`${baseUrl}/healthz`, {
      headers: { "x-request-id": "bad id\twith spaces" },
    });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("/readyz is 200 when the database answers and a model is loaded, 503 naming the failing check otherwise", async () => {
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { database: true, model: true },
    });
    modelLoaded = false;
    const notReady = await fetch(`${baseUrl}/readyz`);
    modelLoaded = true;
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.message).toBe("not ready: model");
  });

  it("stats.counts over tRPC returns the catalog, user and rating counts for a viewer key", async () => {
    const viewer = await keys.create({ name: "dash", role: "viewer" });
    const counts = await client(viewer.key).stats.counts.query();
    expect(counts).toEqual({ items: 40, users: 7, ratings: 35 });
  });

  it("stats.counts refuses no key (401), a revoked key (401) and a client-role key (403)", async () => {
    await expect(client().stats.counts.query()).rejects.toMatchObject({
      data: { httpStatus: 401 },
    });
    const revoked = await keys.create({ name: "old", role: "admin" });
    await keys.revoke(revoked.prefix);
    await expect(client(revoked.key).stats.counts.query()).rejects.toMatchObject({
      data: { httpStatus: 401 },
    });
    const clientKey = await keys.create({ name: "app", role: "client" });
    await expect(client(clientKey.key).stats.counts.query()).rejects.toMatchObject({
      data: { httpStatus: 403 },
    });
  });

  it("a key's secret is checked on every request: a forged secret with a known prefix is refused after the real key was used", async () => {
    const { key } = await keys.create({ name: "viewer", role: "viewer" });
    expect(await keys.authenticate(key)).toMatchObject({ role: "viewer" });
    expect(await keys.authenticate(key)).toMatchObject({ role: "viewer" }); // the remembered match
    const last = key.at(-1) === "A" ? "B" : "A";
    const forged = `${key.slice(0, -1)}${last}`;
    expect(await keys.authenticate(forged)).toBeNull();
    expect(await keys.authenticate(key.slice(0, -1))).toBeNull();
    expect(await keys.authenticate(key)).toMatchObject({ role: "viewer" });
  });

  it("unknown routes answer 404 in the error shape", async () => {
    const response = await fetch(`${baseUrl}/nope?x=1`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: "NOT_FOUND", message: "no route GET /nope" },
    });
  });

  it("CORS allows only listed origins", async () => {
    const allowed = await fetch(`${baseUrl}/healthz`, {
      headers: { origin: "http://dash.example" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://dash.example");
    const other = await fetch(`${baseUrl}/healthz`, { headers: { origin: "http://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("apiKeys over tRPC", () => {
  it("an admin creates a key (shown once), lists it without the secret, and revokes it; a pm may not", async () => {
    const admin = await keys.create({ name: "root", role: "admin" });
    const created = await client(admin.key).apiKeys.create.mutate({
      name: "mobile",
      role: "client",
    });
    expect(created.key).toMatch(/^reco_[0-9a-f]{12}_/);
    expect(await keys.authenticate(created.key)).toMatchObject({ role: "client", name: "mobile" });
    const listed = await client(admin.key).apiKeys.list.query();
    const row = listed.find((k) => k.prefix === created.prefix);
    expect(row).toMatchObject({ role: "client", revoked: false });
    expect(JSON.stringify(listed)).not.toContain(created.key);
    await client(admin.key).apiKeys.revoke.mutate({ prefix: created.prefix });
    expect(await keys.authenticate(created.key)).toBeNull();
    await expect(
      client(admin.key).apiKeys.revoke.mutate({ prefix: created.prefix }),
    ).rejects.toMatchObject({
      data: { httpStatus: 404 },
    });
    const pm = await keys.create({ name: "pm", role: "pm" });
    await expect(client(pm.key).apiKeys.list.query()).rejects.toMatchObject({
      data: { httpStatus: 403 },
    });
  });
});
