import type { EventBus } from "@reco/bus";
import type { Cache } from "@reco/cache";
import { topicNames, type TopicNames } from "@reco/contracts";
import {
  ApiKeyStore,
  createServingRuntime,
  type ModelLoader,
  type ModelResolver,
  type ServingOptions,
  type ServingRuntime,
} from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { demoData, publishStableIals, type DemoData } from "./fixtures.ts";

export interface ServingApp {
  data: DemoData;
  runtime: ServingRuntime;
  app: FastifyInstance;
  baseUrl: string;
  keys: ApiKeyStore;
  clientKey: string;
  viewerKey: string;
  revokedKey: string;
  topics: TopicNames;
  bus: EventBus;
  cache: Cache;
  modelDir: string;
  close(): Promise<void>;
}

export const ITEMS = 40;
export const USERS = 30;
export const RATINGS_PER_USER = 8;

/**
 * A real api over real adapters: PGlite + Parquet snapshots with USERS×RATINGS_PER_USER ratings,
 * an iALS model trained on them, published to a registry and marked stable, the given cache and bus.
 */
export async function startServingApp(options: {
  cache: Cache;
  bus: (dataDir: string) => Promise<EventBus>;
  topicPrefix: string;
  serving?: Partial<ServingOptions>;
  loader?: ModelLoader;
  resolver?: ModelResolver;
  bodyLimitBytes?: number;
}): Promise<ServingApp> {
  const data = await demoData({ items: ITEMS, users: USERS, ratingsPerUser: RATINGS_PER_USER });
  const { dir: modelDir } = await publishStableIals(data.db, data.dataDir, data.ratings);

  const topics = topicNames(options.topicPrefix);
  const bus = await options.bus(data.dataDir);
  await bus.ensureTopics(Object.values(topics));
  const runtime = await createServingRuntime({
    prisma: data.db.prisma,
    cache: options.cache,
    bus,
    topics,
    snapshotsRoot: data.snapshotsRoot,
    options: { rateLimitPerSecond: 1000, rateLimitBurst: 2000, ...options.serving },
    loader: options.loader,
    resolver: options.resolver,
  });
  const keys = new ApiKeyStore(data.db.prisma);
  const clientKey = (await keys.create({ name: "app", role: "client" })).key;
  const viewerKey = (await keys.create({ name: "dash", role: "viewer" })).key;
  const revoked = await keys.create({ name: "old", role: "client" });
  await keys.revoke(revoked.prefix);

  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: ITEMS, users: USERS, ratings: data.ratings.length }) },
      apiKeys: keys,
    },
    readiness: { database: () => data.db.ping(), model: async () => runtime.ready() },
    bodyLimitBytes: options.bodyLimitBytes ?? 256 * 1024,
    serving: servingRoutesDeps(runtime, keys),
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    data,
    runtime,
    app,
    baseUrl,
    keys,
    clientKey,
    viewerKey,
    revokedKey: revoked.key,
    topics,
    bus,
    cache: options.cache,
    modelDir,
    async close() {
      await app.close();
      await runtime.close(2_000);
      await bus.close();
      await options.cache.close();
      await data.cleanup();
    },
  };
}

export async function call(
  server: Pick<ServingApp, "baseUrl">,
  pathAndQuery: string,
  init: {
    key?: string;
    method?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(`${server.baseUrl}${pathAndQuery}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies (metrics) stay text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
