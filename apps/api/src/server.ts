import { AppError, randomId } from "@reco/contracts";
import cors from "@fastify/cors";
import { appRouter, contextFactory, type AppRouter, type TrpcServices } from "@reco/api-router";
import type { Authenticator } from "@reco/serving";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { errorBody, sendError } from "./http/errors.ts";
import { lazyRequestLogger } from "./http/request-logger.ts";
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
  /** Largest accepted request body of the REST routes without a smaller limit of their own (413 beyond it). */
  bodyLimitBytes?: number;
  /** Largest accepted body of a tRPC call or batch (413 beyond it); default 256 KiB. */
  trpcBodyLimitBytes?: number;
  /** The REST serving API (/recommend, /similar, /feedback, /items, /metrics, /openapi.json). */
  serving?: ServingRoutesDeps;
  /** GET /experiments/:key/assignment/:userId, exposure and outcome logging. */
  experiments?: ExperimentRoutesDeps;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Log paths that may hold a secret: request headers carrying keys or cookies, and fields named like
 * secrets, wherever a log line puts them. Applied to every log line the server writes.
 */
export const REDACTED_LOG_PATHS = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  "req.headers.cookie",
  "headers.authorization",
  'headers["x-api-key"]',
  "headers.cookie",
  "*.headers.authorization",
  '*.headers["x-api-key"]',
  "*.headers.cookie",
  "*.apiKey",
  "*.password",
  "*.secret",
  "*.token",
  "*.webhookSecret",
];

/**
 * Headers on every answer. The api serves JSON only: no content may be sniffed into HTML, framed,
 * or load anything; answers to a request that carried a key are never stored by a cache (they can
 * hold a new key or a webhook secret, and are per key anyway).
 */
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
} as const;
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
  const logger = deps.logger.child(
    {},
    { redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" } },
  ) as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    // Long ids must reach validation (→ 400) instead of failing route matching; tRPC batches need room too.
    routerOptions: { maxParamLength: 16 * 1024 },
    requestIdHeader: false,
    // Errors raised before routing (a malformed percent-escape in the path) get the same shape.
    frameworkErrors: (error, request, reply) => {
      // no hooks run for these: the headers onSend adds are set here
      reply.headers({ ...SECURITY_HEADERS, "x-request-id": request.id });
      return sendError(error, request, reply);
    },
    // A caller's x-request-id is reused when it is sane, so logs line up across services.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomId();
    },
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
    reply.headers(SECURITY_HEADERS);
    if (request.headers.authorization !== undefined || request.headers["x-api-key"] !== undefined)
      reply.header("cache-control", "no-store");
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

  // tRPC in a scope of its own: its route gets its own body limit, and only JSON bodies reach it
  // (the adapter hands multipart and octet-stream bodies to tRPC unread, past any body limit).
  const trpcBodyLimit = deps.trpcBodyLimitBytes ?? 256 * 1024;
  await app.register(async (scope) => {
    scope.addHook("onRoute", (route) => {
      route.bodyLimit = trpcBodyLimit;
    });
    scope.addHook("onRequest", async (request) => {
      const type = request.headers["content-type"];
      if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type))
        throw new AppError(
          "BAD_REQUEST",
          `tRPC accepts application/json bodies only, not ${type.split(";")[0]}`,
        );
    });
    await scope.register(fastifyTRPCPlugin, {
      prefix: "/trpc",
      trpcOptions: {
        router: appRouter,
        createContext: contextFactory(deps.authenticator, deps.services),
        onError({ error, path }) {
          if (error.code === "INTERNAL_SERVER_ERROR")
            logger.error({ err: error, path }, "tRPC procedure failed");
        },
      } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
    });
  });

  if (deps.serving) await servingRoutes(app, deps.serving);
  if (deps.experiments) await experimentRoutes(app, deps.experiments);

  return app;
}
