/**
 * What the serving benchmarks share: the two ways of applying load (a generator in its own process,
 * as clients see the server, and the older in-process one kept for continuity), the demo version
 * they publish, and a server over the embedded adapters.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { buildServer, servingRoutesDeps } from "@reco/api";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { telemetryTopics, topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { importMovieLens } from "@reco/importer";
import {
  buildInteractions,
  fitModel,
  loadSnapshots,
  publishVersion,
  recordModelVersion,
} from "@reco/ml";
import { ApiKeyStore, createServingRuntime, type ServingRuntimeDeps } from "@reco/serving";
import { pino } from "pino";

export interface LoadJob {
  url: string;
  key: string;
  connections: number;
  seconds: number;
  /** Requested in turn; with `suffix`, `suffix + n` is appended so every request is a new cache key. */
  paths: string[];
  suffix?: string;
  method?: "GET" | "POST";
  /** A file holding a JSON array of request bodies (JSON text), sent in turn (POST). */
  bodiesFile?: string;
}

export interface Figures {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU this process (the server's) spent per request while the load ran, in µs. */
  cpuPerRequestUs: number;
}

const run = promisify(execFile);
const generator = path.join(path.dirname(fileURLToPath(import.meta.url)), "load-generator.ts");

/** Load from a generator in its own process: the server's process does only the serving. */
export async function loadSeparate(job: LoadJob): Promise<Figures> {
  const cpu = process.cpuUsage();
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", generator, JSON.stringify(job)],
    { maxBuffer: 1 << 20 },
  );
  const used = process.cpuUsage(cpu);
  const figures = JSON.parse(stdout.trim().split("\n").at(-1)!) as Omit<Figures, "cpuPerRequestUs">;
  return { ...figures, cpuPerRequestUs: (used.user + used.system) / Math.max(1, figures.total) };
}

/**
 * Load from inside the server's own process (how the first serving figures were taken): the
 * generator's CPU is the server's, which slows the cheap bare route most and so flatters the ratios.
 * Kept only to print the older figures beside the separate-process ones.
 */
export async function loadShared(job: LoadJob): Promise<Figures> {
  let n = 0;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.seconds,
    headers: { authorization: `Bearer ${job.key}` },
    requests: [
      {
        setupRequest: (request) => {
          const i = n++;
          const p = job.paths[i % job.paths.length]!;
          return { ...request, path: job.suffix ? `${p}${job.suffix}${i}` : p };
        },
      },
    ],
  });
  const used = process.cpuUsage(cpu);
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuPerRequestUs: (used.user + used.system) / Math.max(1, result.requests.total),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** An embedded database in `dir` with the demo data (MovieLens latest-small) imported. */
export async function openDemoDatabase(dir: string): Promise<Database> {
  const db = await openDatabase({ dataDir: dir });
  await importMovieLens({
    prisma: db.prisma,
    snapshotsRoot: path.join(dir, "snapshots"),
    moviesPath: "data/ml-latest-small/movies.csv",
    ratingsPath: "data/ml-latest-small/ratings.csv",
  });
  return db;
}

/**
 * Fits iALS (64 factors, 5 epochs) on the snapshots under `dir`, publishes it into `dir/registry`
 * and records it (stage candidate). Returns its row id and the known users.
 */
export async function publishDemoVersion(db: Database, dir: string, version?: string) {
  const { log } = await loadSnapshots(path.join(dir, "snapshots"));
  const train = buildInteractions(log);
  const { model } = await fitModel("ials", train, { factors: 64, epochs: 5 });
  const published = await publishVersion({
    registryDir: path.join(dir, "registry"),
    name: "ials",
    ...(version ? { version } : {}),
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "ml-latest-small",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: log.length,
    },
  });
  const id = await recordModelVersion(db.prisma, published.dir, published.metadata);
  return { id, users: train.ids.users, nItems: train.nItems, nInteractions: log.length };
}

export type BenchServerOptions = Pick<ServingRuntimeDeps, "resolver"> & {
  options?: ServingRuntimeDeps["options"];
  /** Called on close, after the server stopped (e.g. to stop an assigner). */
  onClose?: () => void;
};

/**
 * The api's serving routes on a free loopback port over the embedded adapters (its own file-log
 * bus under `dir/events-<label>`), with a fresh client key and no rate limit.
 */
export async function serveBench(
  db: Database,
  dir: string,
  label: string,
  { resolver, options, onClose }: BenchServerOptions = {},
) {
  const topics = topicNames("bench");
  // As the api opens it: exposure telemetry synced on a schedule.
  const bus = await openFileLogBus({
    dir: path.join(dir, `events-${label}`),
    lazySync: { topics: telemetryTopics(topics) },
  });
  await bus.ensureTopics(Object.values(topics));
  const runtime = await createServingRuntime({
    prisma: db.prisma,
    cache: new MemoryCache({ maxEntries: 1_000_000, maxBytes: 1024 * 1024 * 1024 }),
    bus,
    topics,
    snapshotsRoot: path.join(dir, "snapshots"),
    ...(resolver ? { resolver } : {}),
    options: { rateLimitPerSecond: 1e9, rateLimitBurst: 1e9, ...options },
  });
  const keys = new ApiKeyStore(db.prisma);
  const key = (await keys.create({ name: `bench-${label}`, role: "client" })).key;
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: {},
    serving: servingRoutesDeps(runtime, keys),
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    key,
    runtime,
    async close() {
      onClose?.();
      await app.close();
      await runtime.close(1000);
      await bus.close();
    },
  };
}
