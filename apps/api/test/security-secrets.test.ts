/**
 * Secrets: API keys are checked in constant time, and no key, password or token reaches a log line
 * (the api's pino output captured while requests carry keys, keys are refused, a key is created, a
 * rollout with a webhook is started and its delivery fails, the key store goes down).
 */
import crypto from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { syncBuiltinESMExports } from "node:module";
import { envFields, parseEnv } from "@reco/contracts";
import { ApiKeyStore } from "@reco/serving";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { send, startSecurityApp, type SecurityApp } from "./security-fixture.ts";

let server: SecurityApp;
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  server = await startSecurityApp({ logLevel: "trace" });
  // A webhook receiver that refuses every delivery (400: not retried), so the failure is logged at once.
  receiver = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(400).end("no"));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The same key with its last character changed (still well-formed). */
function lastByteChanged(key: string): string {
  return key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
}

describe("API keys are compared in constant time", () => {
  it("timingSafeEqual on equal-length buffers decides; a key differing in its last byte is refused", async () => {
    const store = new ApiKeyStore(server.data.db.prisma);
    const { key, role } = await store.create({ name: "ct", role: "client" });
    const spy = vi.spyOn(crypto, "timingSafeEqual");
    syncBuiltinESMExports(); // the named import in the key store now calls the spy
    try {
      // first use: the presented key's sha256 against the stored one (32 bytes each)
      expect(await store.authenticate(key)).toMatchObject({ role });
      expect(spy).toHaveBeenCalled();
      const digestCalls = spy.mock.calls.filter(([a]) => a.byteLength === 32);
      expect(digestCalls.length).toBeGreaterThan(0);
      for (const [a, b] of spy.mock.calls) expect(a.byteLength).toBe(b.byteLength);

      spy.mockClear();
      const forged = lastByteChanged(key);
      expect(forged).toHaveLength(key.length);
      expect(await store.authenticate(forged)).toBeNull();
      // refused by a constant-time compare, not by a short-circuiting one
      expect(spy).toHaveBeenCalled();
      expect(spy.mock.results.every((result) => result.value === false)).toBe(true);
      for (const [a, b] of spy.mock.calls) expect(a.byteLength).toBe(b.byteLength);

      // the key still works, and once more the forged one does not (cached lookup path)
      expect(await store.authenticate(key)).toMatchObject({ role });
      expect(await store.authenticate(forged)).toBeNull();
    } finally {
      spy.mockRestore();
      syncBuiltinESMExports();
    }
  });

  it("over HTTP: the real key is served, the key with its last byte changed gets 401", async () => {
    const key = server.keys.client;
    expect((await send(server, "GET", "/items/5", { key })).status).toBe(200);
    const forged = await send(server, "GET", "/items/5", { key: lastByteChanged(key) });
    expect(forged).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHORIZED", message: "API key unknown or revoked" } },
    });
    const admin = server.keys.admin;
    const forgedAdmin = await send(server, "GET", "/trpc/apiKeys.list", {
      key: lastByteChanged(admin),
    });
    expect(forgedAdmin.status).toBe(401);
  });
});

describe("no key, password or token in any log line", () => {
  it("the captured logs of requests with keys, refused keys, a created key, a rollout webhook and a key-store outage hold none of them", async () => {
    const secrets: Record<string, string> = {};
    for (const [role, key] of Object.entries(server.keys)) {
      secrets[`${role} key`] = key;
      secrets[`${role} key's secret part`] = key.slice("reco_0123456789ab_".length); // may hold "_"
    }
    secrets["revoked key"] = server.revokedKey;

    // keys in both headers, on REST and tRPC, for every role
    for (const key of Object.values(server.keys)) {
      for (const keyHeader of ["authorization", "x-api-key"] as const) {
        await send(server, "GET", "/recommend/3?k=3", { key, keyHeader });
        await send(server, "GET", "/trpc/session.whoami", { key, keyHeader });
        await send(server, "POST", "/feedback", {
          key,
          keyHeader,
          body: JSON.stringify({ userId: "3", itemId: "7", type: "click" }),
        });
      }
    }
    // refused keys: unknown, malformed, revoked, forged, a bad Authorization scheme
    const unknown = `reco_0123456789ab_${"Q".repeat(40)}unk`;
    secrets["unknown key"] = unknown;
    const malformed = "malformed-secret-Zx81Vq";
    secrets["malformed key"] = malformed;
    const basic = "dXNlcjpzZWNyZXQtcGFzc3dvcmQ="; // user:secret-password
    secrets["basic credentials"] = basic;
    for (const key of [unknown, malformed, server.revokedKey, lastByteChanged(server.keys.pm)]) {
      await send(server, "GET", "/recommend/3", { key });
      await send(server, "GET", "/trpc/stats.counts", { key, keyHeader: "x-api-key" });
    }
    secrets["forged pm key"] = lastByteChanged(server.keys.pm);
    await send(server, "GET", "/items/5", { headers: { authorization: `Basic ${basic}` } });
    // a cookie and a bad JSON body with a key in it
    await send(server, "POST", "/feedback", {
      key: server.keys.client,
      headers: { cookie: "session=cookie-secret-9f8e7d" },
      body: `{"userId":"${server.keys.admin}",`,
    });
    secrets["cookie"] = "cookie-secret-9f8e7d";

    // a key created through the API, then used and revoked
    const created = await send(server, "POST", "/trpc/apiKeys.create", {
      key: server.keys.admin,
      body: JSON.stringify({ name: "log-test", role: "client" }),
    });
    expect(created.status).toBe(200);
    const newKey: string = created.body.result.data.key;
    secrets["created key"] = newKey;
    expect((await send(server, "GET", "/items/5", { key: newKey })).status).toBe(200);
    const revoked = await send(server, "POST", "/trpc/apiKeys.revoke", {
      key: server.keys.admin,
      body: JSON.stringify({ prefix: created.body.result.data.prefix }),
    });
    expect(revoked.status).toBe(200);
    expect((await send(server, "GET", "/items/5", { key: newKey })).status).toBe(401);

    // a rollout with a webhook whose URL carries a token; the receiver refuses the delivery
    await server.models.record({
      name: "ials",
      version: "candidate-1",
      kind: "popularity",
      artifactPath: "/nowhere",
      checksum: "0".repeat(64),
    });
    const hookToken = "T0K3N-in-the-path-83jd";
    const queryToken = "query-token-2k4m";
    secrets["webhook path token"] = hookToken;
    secrets["webhook query token"] = queryToken;
    const started = await send(server, "POST", "/trpc/rollouts.start", {
      key: server.keys.engineer,
      body: JSON.stringify({
        candidate: { name: "ials", version: "candidate-1" },
        webhookUrl: `${receiverUrl}/hooks/${hookToken}?token=${queryToken}`,
      }),
    });
    expect(started.status, started.text).toBe(200);
    const webhookSecret: string = started.body.result.data.webhookSecret;
    expect(webhookSecret.length).toBeGreaterThan(20);
    secrets["webhook secret"] = webhookSecret;
    await vi.waitFor(
      () =>
        expect(server.logLines.some((l) => l.includes("rollout webhook not delivered"))).toBe(true),
      { timeout: 10_000 },
    );

    // anything logged with request headers goes through the server's redaction
    server.app.log.info(
      { req: { headers: { authorization: `Bearer ${server.keys.admin}` } } },
      "headers logged by mistake",
    );
    server.app.log.info(
      { headers: { "x-api-key": server.keys.client, cookie: "session=cookie-secret-9f8e7d" } },
      "headers logged by mistake",
    );

    // the key store goes down: lookups fail and are logged (503)
    const outageKey = (await server.keyStore.create({ name: "outage", role: "client" })).key;
    secrets["key used during the outage"] = outageKey;
    await server.data.db.close();
    const during = await send(server, "GET", "/items/5", { key: outageKey });
    expect(during.status).toBe(503);

    const logs = server.logLines.join("\n");
    // the capture worked: requests, refusals, the webhook failure and the outage were all logged
    expect(
      server.logLines.filter((l) => l.includes('"incoming request"')).length,
    ).toBeGreaterThanOrEqual(45);
    expect(logs).toContain("API key lookup failed");
    expect(logs).toContain('"[redacted]"');
    expect(logs).toContain(`"url":"${receiverUrl}/…"`);
    const leaked = Object.entries(secrets)
      .filter(([, secret]) => logs.includes(secret))
      .map(([what]) => what);
    expect(leaked).toEqual([]);
  });

  it("a bad configuration value is printed without the password of its URL", () => {
    const schema = z.object({ DATABASE_URL: envFields.databaseUrl });
    const attempt = () =>
      parseEnv(schema, { DATABASE_URL: "postgress://reco:s3cr3t-pa55@db.internal:5432/reco" });
    expect(attempt).toThrow(/DATABASE_URL="postgress:\/\/reco:\*\*\*@db\.internal:5432\/reco"/);
    expect(attempt).not.toThrow(/s3cr3t-pa55/);
  });
});
