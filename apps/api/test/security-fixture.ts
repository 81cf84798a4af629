/**
 * The whole api as main.ts composes it, on embedded adapters (PGlite, in-process LRU, file log):
 * the serving routes over a trained iALS model, the client experiment routes, and every tRPC
 * service (stats, API keys, experiments, models, monitoring, rollouts with their webhooks), with
 * one key per role. Its pino logs are captured line by line for the log assertions.
 */
import { Writable } from "node:stream";
import path from "node:path";
import { createRecommendationsPanel } from "@reco/api-router";
import { openFileLogBus, type EventBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { MetricAggregateRepository, ModelVersionStore } from "@reco/db";
import { ExperimentAssigner, ExperimentService } from "@reco/experiments/store";
import { RetrainingRuns } from "@reco/retraining";
import { RolloutService, announceTransitions, type WebhookSender } from "@reco/rollouts/store";
import {
  AccountStore,
  ACCOUNT_ROLES,
  ApiKeyStore,
  createCatalogStats,
  createServingRuntime,
  ROLES,
  type Role,
  type ServingRuntime,
} from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { servingRoutesDeps } from "../src/routes/serving.ts";
import { buildServer } from "../src/server.ts";
import { demoData, publishStableIals, type DemoData } from "./fixtures.ts";

export const BODY_LIMIT_BYTES = 64 * 1024;
export const TRPC_BODY_LIMIT_BYTES = 32 * 1024;

export interface SecurityApp {
  data: DemoData;
  app: FastifyInstance;
  baseUrl: string;
  keyStore: ApiKeyStore;
  accounts: AccountStore;
  /** One account per dashboard role: `<role>@reco.test`, password `<role> password 1`. */
  accountPasswords: Record<(typeof ACCOUNT_ROLES)[number], string>;
  /** One key per role. */
  keys: Record<Role, string>;
  /** A key that was created and then revoked. */
  revokedKey: string;
  models: ModelVersionStore;
  rollouts: RolloutService;
  /** Every log line written so far (JSON text, as pino wrote it). */
  logLines: string[];
  close(): Promise<void>;
}

export async function startSecurityApp(
  options: { logLevel?: pino.LevelWithSilent; rateLimitPerSecond?: number } = {},
): Promise<SecurityApp> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logLines.push(line);
      done();
    },
  });
  const logger = pino({ level: options.logLevel ?? "trace" }, sink);

  const data = await demoData({ items: 40, users: 30, ratingsPerUser: 8 });
  const models = new ModelVersionStore(data.db.prisma);
  await publishStableIals(data.db, data.dataDir, data.ratings);
  const topics = topicNames("sec");
  const bus: EventBus = await openFileLogBus({ dir: path.join(data.dataDir, "events") });
  await bus.ensureTopics(Object.values(topics));
  const cache = new MemoryCache({ maxEntries: 10_000 });
  const runtime: ServingRuntime = await createServingRuntime({
    prisma: data.db.prisma,
    cache,
    bus,
    topics,
    snapshotsRoot: data.snapshotsRoot,
    options: {
      rateLimitPerSecond: options.rateLimitPerSecond ?? 1_000_000,
      rateLimitBurst: options.rateLimitPerSecond ?? 1_000_000,
    },
  });

  const keyStore = new ApiKeyStore(data.db.prisma);
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) keys[role] = (await keyStore.create({ name: role, role })).key;
  const revoked = await keyStore.create({ name: "revoked", role: "admin" });
  await keyStore.revoke(revoked.prefix);
  const accounts = new AccountStore(data.db.prisma);
  const accountPasswords = {} as SecurityApp["accountPasswords"];
  for (const role of ACCOUNT_ROLES) {
    accountPasswords[role] = `${role} password 1`;
    await accounts.create({ email: `${role}@reco.test`, role, password: accountPasswords[role] });
  }

  const experiments = new ExperimentService(data.db.prisma, models);
  const assigner = new ExperimentAssigner(data.db.prisma, { refreshMs: 3_600_000 });
  await assigner.start();
  const rollouts = new RolloutService(data.db.prisma, models);
  const webhooks: WebhookSender = announceTransitions(rollouts, logger);

  const app = await buildServer({
    logger,
    authenticator: keyStore,
    services: {
      stats: createCatalogStats({ prisma: data.db.prisma, snapshotsRoot: data.snapshotsRoot }),
      apiKeys: keyStore,
      accounts,
      experiments,
      models,
      monitoring: new MetricAggregateRepository(data.db.prisma),
      rollouts,
      retraining: new RetrainingRuns(data.db.prisma),
      recommendations: createRecommendationsPanel({
        runtime,
        versions: models,
        cache,
        bus,
        topics,
        sharedHistory: false,
      }),
    },
    readiness: { database: () => data.db.ping(), model: async () => runtime.ready() },
    corsOrigins: ["http://dash.example"],
    bodyLimitBytes: BODY_LIMIT_BYTES,
    trpcBodyLimitBytes: TRPC_BODY_LIMIT_BYTES,
    serving: servingRoutesDeps(runtime, keyStore),
    experiments: { authenticator: keyStore, assigner, experiments, limiter: runtime.limiter },
  });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    data,
    app,
    baseUrl,
    keyStore,
    accounts,
    accountPasswords,
    keys,
    revokedKey: revoked.key,
    models,
    rollouts,
    logLines,
    async close() {
      assigner.close();
      await app.close();
      await webhooks.close(500);
      await runtime.close(2_000);
      await bus.close();
      await cache.close();
      await data.cleanup();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  body: any;
}

/** One request; the key goes in `Authorization: Bearer`, or in X-API-Key with `keyHeader`. */
export async function send(
  server: Pick<SecurityApp, "baseUrl">,
  method: string,
  pathAndQuery: string,
  init: {
    key?: string;
    keyHeader?: "authorization" | "x-api-key";
    body?: string | Uint8Array;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) {
    if (init.keyHeader === "x-api-key") headers["x-api-key"] = init.key;
    else headers.authorization = `Bearer ${init.key}`;
  }
  if (init.body !== undefined) headers["content-type"] = init.contentType ?? "application/json";
  const response = await fetch(`${server.baseUrl}${pathAndQuery}`, {
    method,
    headers,
    body: init.body as RequestInit["body"],
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // non-JSON answers (metrics) stay text
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** The server's routes as Fastify lists them: `METHOD /path` for every method of every route. */
export function listRoutes(app: FastifyInstance): Array<{ method: string; url: string }> {
  const printed = app.printRoutes({ commonPrefix: false });
  const routes: Array<{ method: string; url: string }> = [];
  // A route below another (`/users/:userId` then `/export`) is printed indented, as a suffix.
  const parents: string[] = [];
  for (const line of printed.split("\n")) {
    if (!line.trim()) continue;
    const match = /^([\s│├└─]*)(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) throw new Error(`unexpected line in Fastify's route list: ${JSON.stringify(line)}`);
    const depth = Math.max(0, match[1]!.length / 4 - 1);
    const url = (parents[depth - 1] ?? "") + match[2]!;
    parents.length = depth;
    parents.push(url);
    for (const method of match[3]!.split(",")) routes.push({ method: method.trim(), url });
  }
  return routes;
}
