import { Redis } from "ioredis";
import { join } from "node:path";
import { ManagedProcess, makeTempDir, type PrivateProcess } from "./managed-process.ts";
import { freePort } from "./ports.ts";

export interface PrivateRedis extends PrivateProcess {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
}

export interface PrivateRedisOptions {
  /**
   * "aof" (default): an append-only file keeps acknowledged writes across kill and restart.
   * "none": a restart comes back empty, like a cache node that lost its memory.
   */
  readonly persistence?: "aof" | "none";
}

/** Starts a redis-server of its own on a free port, for fault-injection tests. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = makeTempDir("redis");
  const aof = (options.persistence ?? "aof") === "aof";
  const service = new ManagedProcess(
    {
      name: `private redis on 127.0.0.1:${port}`,
      command: "redis-server",
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        aof ? "yes" : "no",
        "--appendfsync",
        "everysec",
      ],
      logFile: join(dir, "redis.log"),
      stopSignal: "SIGTERM",
      stopTimeoutMs: 10_000,
      ready: () => ping(port),
      readyTimeoutMs: 15_000,
    },
    dir,
  );
  await service.start();
  return Object.assign(service, { url: `redis://127.0.0.1:${port}`, port });
}

async function ping(port: number): Promise<void> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== "PONG") throw new Error(`PING answered ${reply}`);
  } finally {
    client.disconnect();
  }
}
