import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { runCacheContract } from "@reco/cache/contract";
import { CacheUnavailable, RedisCache, createCache, createRedisCache } from "@reco/cache";
import { startPrivateRedis, waitFor } from "@reco/testkit";

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  throw new Error(
    "REDIS_URL is not set: this suite runs against a real Redis. Run `bash scripts/services.sh up` and " +
      '`eval "$(bash scripts/services.sh env)"` first.',
  );
}
const url: string = REDIS_URL;

// Every cache gets its own namespace on the shared Redis, so parallel runs never see each other's keys.
const namespaces: string[] = [];
function freshNamespace(): string {
  const namespace = `test:cache:${randomUUID()}:`;
  namespaces.push(namespace);
  return namespace;
}

afterAll(async () => {
  const cleaner = await createRedisCache({ url, namespace: "test:cache:" });
  for (const namespace of namespaces)
    await cleaner.deleteByPrefix(namespace.slice("test:cache:".length));
  await cleaner.close();
});

runCacheContract("redis", {
  makeCache: () => createRedisCache({ url, namespace: freshNamespace(), maxValueBytes: 4096 }),
});

describe("RedisCache on a real Redis", () => {
  it("createCache builds the Redis adapter for kind redis and it is connected", async () => {
    const cache = await createCache({ kind: "redis", url, namespace: freshNamespace() });
    expect(cache.kind).toBe("redis");
    expect(cache).toBeInstanceOf(RedisCache);
    await cache.set("x", [1]);
    expect(await cache.get("x")).toEqual([1]);
    await cache.close();
  });

  it("keeps namespaces apart: deleteByPrefix in one never touches another", async () => {
    const a = await createRedisCache({ url, namespace: freshNamespace() });
    const b = await createRedisCache({ url, namespace: freshNamespace() });
    await a.set("user:1:x", "a");
    await b.set("user:1:x", "b");
    expect(await a.deleteByPrefix("user:1:")).toBe(1);
    expect(await b.get("user:1:x")).toBe("b");
    await Promise.all([a.close(), b.close()]);
  });

  it("two clients on one namespace (two api instances) share token buckets and sets", async () => {
    const namespace = freshNamespace();
    const a = await createRedisCache({ url, namespace });
    const b = await createRedisCache({ url, namespace });
    const bucket = { ratePerSecond: 0.01, burst: 4 };
    const decisions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).takeToken("key-1", bucket)),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(4);
    expect((await b.takeToken("key-1", bucket)).allowed).toBe(false);
    await a.addToSets([{ key: "seen:u", members: ["1", "2"] }]);
    expect((await b.getSet("seen:u")).sort()).toEqual(["1", "2"]);
    const pttl = await a.client.pttl(`${namespace}\u0000bucket:key-1`);
    expect(pttl).toBeGreaterThan(400_000); // refill time of 4 tokens at 0.01/s, plus a second
    await Promise.all([a.close(), b.close()]);
  });

  it("sets the TTL on the Redis key itself (so Redis expires it, not the client)", async () => {
    const namespace = freshNamespace();
    const cache = await createRedisCache({ url, namespace });
    await cache.set("ttl", 1, { ttlMs: 5000 });
    const pttl = await cache.client.pttl(`${namespace}ttl`);
    expect(pttl).toBeGreaterThan(3000);
    expect(pttl).toBeLessThanOrEqual(5000);
    await cache.close();
  });

  it("deletes by prefix across many SCAN pages", async () => {
    const cache = await createRedisCache({ url, namespace: freshNamespace() });
    const pipeline = cache.client.pipeline();
    const namespace = namespaces.at(-1)!;
    for (let i = 0; i < 3000; i += 1) pipeline.set(`${namespace}page:${i}`, "1");
    await pipeline.exec();
    expect(await cache.deleteByPrefix("page:")).toBe(3000);
    expect(await cache.get("page:0")).toBeUndefined();
    await cache.close();
  });
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never answers: a hung Redis host. */
async function blackHole(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

describe("RedisCache when Redis is unreachable (policy: fail fast with CacheUnavailable)", () => {
  it("connection refused: every call rejects with CacheUnavailable within the command timeout", async () => {
    const port = await closedPort();
    const started = Date.now();
    const cache = await createRedisCache({
      url: `redis://127.0.0.1:${port}`,
      connectTimeoutMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    for (const call of [
      () => cache.get("k"),
      () => cache.set("k", 1),
      () => cache.delete("k"),
      () => cache.deleteByPrefix("k"),
    ]) {
      const t0 = Date.now();
      await expect(call()).rejects.toBeInstanceOf(CacheUnavailable);
      expect(Date.now() - t0).toBeLessThan(100);
    }
    await cache.close();
  });

  it("a host that accepts but never answers: calls reject with CacheUnavailable, never hang", async () => {
    const hole = await blackHole();
    const cache = await createRedisCache({
      url: `redis://127.0.0.1:${hole.port}`,
      connectTimeoutMs: 300,
      commandTimeoutMs: 200,
    });
    const t0 = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => cache.get(`k${i}`)),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(
      results.every((r) => r.status === "rejected" && r.reason instanceof CacheUnavailable),
    ).toBe(true);
    await cache.close();
    for (const socket of hole.sockets) socket.destroy();
    await new Promise<void>((resolve) => hole.server.close(() => resolve()));
  });

  it("the error is typed for HTTP mapping: code UNAVAILABLE with a retry hint", async () => {
    const cache = await createRedisCache({
      url: `redis://127.0.0.1:${await closedPort()}`,
      connectTimeoutMs: 100,
    });
    const error = await cache.get("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheUnavailable);
    expect((error as CacheUnavailable).code).toBe("UNAVAILABLE");
    expect((error as CacheUnavailable).message).toMatch(/redis cache unavailable: not connected/);
    await cache.close();
  });
});

describe("RedisCache against a private Redis that is killed, frozen and restarted mid-run", () => {
  it("fails fast while Redis is dead or frozen, never hangs, and recovers by itself after restart", async () => {
    const redis = await startPrivateRedis({ persistence: "none" });
    const cache = await createRedisCache({
      url: redis.url,
      commandTimeoutMs: 200,
      connectTimeoutMs: 2000,
    });
    try {
      expect(cache.connected).toBe(true);
      await cache.set("alive", { v: 1 });
      expect(await cache.get("alive")).toEqual({ v: 1 });

      // Frozen (SIGSTOP): the socket stays open but nothing answers → command timeout, not a hang.
      redis.pause();
      let t0 = Date.now();
      const frozen = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => cache.get(`f${i}`)),
      );
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(
        frozen.every((r) => r.status === "rejected" && r.reason instanceof CacheUnavailable),
      ).toBe(true);
      redis.resume();
      await waitFor(() => cache.get("alive").then(() => true), {
        timeoutMs: 5000,
        description: "cache answers after resume",
      });

      // Killed (SIGKILL): every call rejects at once with CacheUnavailable.
      await redis.kill();
      await waitFor(() => !cache.connected, {
        timeoutMs: 3000,
        description: "client notices the dead server",
      });
      t0 = Date.now();
      for (const call of [
        () => cache.get("alive"),
        () => cache.set("x", 1),
        () => cache.deleteByPrefix("a"),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(CacheUnavailable);
      }
      expect(Date.now() - t0).toBeLessThan(100);

      // Restarted (empty, like a cache node that lost its memory): the same cache object works again.
      await redis.restart();
      await waitFor(() => cache.connected, {
        timeoutMs: 5000,
        description: "client reconnects after restart",
      });
      expect(await cache.get("alive")).toBeUndefined();
      await cache.set("again", "ok");
      expect(await cache.get("again")).toBe("ok");
    } finally {
      await cache.close();
      await redis.dispose();
    }
  });
});
