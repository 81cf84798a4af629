import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startPrivateRedis, uniqueName, type PrivateRedis } from "@reco/testkit";
import { isAlive } from "./process-state.ts";

function client(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  return redis;
}

async function ping(url: string): Promise<string> {
  const redis = client(url);
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

async function get(url: string, key: string): Promise<string | null> {
  const redis = client(url);
  try {
    await redis.connect();
    return await redis.get(key);
  } finally {
    redis.disconnect();
  }
}

describe("startPrivateRedis", () => {
  const started: PrivateRedis[] = [];
  afterAll(async () => {
    await Promise.all(started.map((redis) => redis.dispose()));
  });

  it("answers PING on its own port, is unreachable once killed, and comes back with its data on the same port", async () => {
    const redis = await startPrivateRedis();
    started.push(redis);
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await ping(redis.url)).toBe("PONG");

    const key = uniqueName("testkit");
    const writer = client(redis.url);
    await writer.connect();
    await writer.set(key, "kept");
    writer.disconnect();

    const firstPid = redis.pid;
    await redis.kill();
    expect(redis.running).toBe(false);
    expect(isAlive(firstPid)).toBe(false);
    await expect(ping(redis.url)).rejects.toThrow();

    await redis.restart();
    expect(redis.pid).not.toBe(firstPid);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await ping(redis.url)).toBe("PONG");
    expect(await get(redis.url, key)).toBe("kept");
  });

  it("without persistence comes back empty after a restart", async () => {
    const redis = await startPrivateRedis({ persistence: "none" });
    started.push(redis);
    const key = uniqueName("testkit");
    const writer = client(redis.url);
    await writer.connect();
    await writer.set(key, "lost");
    writer.disconnect();

    await redis.restart();
    expect(await get(redis.url, key)).toBeNull();
  });

  it("pause makes commands time out and resume makes it answer again", async () => {
    const redis = await startPrivateRedis();
    started.push(redis);
    const connected = client(redis.url);
    await connected.connect();
    redis.pause();
    await expect(connected.ping()).rejects.toThrow(/timed out/i);
    redis.resume();
    await expect(ping(redis.url)).resolves.toBe("PONG");
    connected.disconnect();
  });

  it("stop shuts it down cleanly and stops only its own process", async () => {
    const first = await startPrivateRedis();
    const second = await startPrivateRedis();
    started.push(first, second);
    await first.stop();
    expect(isAlive(first.pid)).toBe(false);
    expect(isAlive(second.pid)).toBe(true);
    expect(await ping(second.url)).toBe("PONG");
  });
});
