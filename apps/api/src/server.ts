import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import { appRouter, contextFactory, type AppRouter, type TrpcServices } from "@reco/api-router";
import type { Authenticator } from "@reco/serving";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { errorBody, sendError } from "./http/errors.ts";
import { experimentRoutes, type ExperimentRoutesDeps } from "./routes/experiments.ts";
import { servingRoutes, type ServingRoutesDeps } from "./routes/serving.ts";

/** A named readiness probe: true when that dependency can serve. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

export interface ServerDeps {
  /** A pino logger (pino satisfies FastifyBaseLogger). */
  logger: FastifyBaseLogger;
  authenticator: Authenticator;
  services: TrpcServices;
  /** All must pass for /readyz to answer 200 (e.g. database reachable, a model or the fallback loaded). */
  readiness: ReadinessChecks;
  /** Browser origins allowed by CORS; other origins get no CORS headers. */
  corsOrigins?: string[];
  /** Largest accepted request body (413 beyond it). */
  bodyLimitBytes?: number;
  /** The REST serving API (/recommend, /similar, /feedback, /items, /metrics, /openapi.json). */
  serving?: ServingRoutesDeps;
  /** GET /experiments/:key/assignment/:userId, exposure and outcome logging. */
  experiments?: ExperimentRoutesDeps;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>(
    (resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)),
  );
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the HTTP server without listening, so tests can start it on port 0. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    // Long ids must reach validation (→ 400) instead of failing route matching; tRPC batches need room too.
    routerOptions: { maxParamLength: 16 * 1024 },
    requestIdHeader: false,
    // A caller's x-request-id is reused when it is sane, so logs line up across services.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  const metrics = deps.serving?.metrics;
  if (metrics) {
    app.addHook("onResponse", async (request, reply) => {
      // The route pattern, not the URL: ids must not explode the label set.
      const route = request.routeOptions.url ?? "unmatched";
      metrics.httpDuration.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }
  app.setErrorHandler((error, request, reply) => sendError(error as Error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );

  const allowed = new Set(deps.corsOrigins ?? []);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    allowedHeaders: ["authorization", "x-api-key", "content-type", "x-request-id", "trpc-accept"],
    exposedHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
  });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const names = Object.keys(deps.readiness);
    const results = await Promise.all(names.map((name) => runCheck(deps.readiness[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    if (results.every(Boolean)) return { status: "ready", checks };
    const failing = names.filter((_, i) => !results[i]);
    return reply
      .status(503)
      .send(errorBody("UNAVAILABLE", `not ready: ${failing.join(", ")}`, { checks }));
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: contextFactory(deps.authenticator, deps.services),
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          deps.logger.error({ err: error, path }, "tRPC procedure failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  if (deps.serving) await servingRoutes(app, deps.serving);
  if (deps.experiments) await experimentRoutes(app, deps.experiments);

  return app;
}
