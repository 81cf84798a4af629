import {
  buildOpenApi,
  itemParamsSchema,
  parseFeedbackBody,
  recommendQuerySchema,
  similarQuerySchema,
  userParamsSchema,
  type Authenticator,
  type Catalog,
  type ItemFilter,
  type FeedbackService,
  type ItemService,
  type RecommendationService,
  type ServingMetrics,
  type RateLimiter,
  type UserDataService,
} from "@reco/serving";
import { BadInput, MAX_ID_LENGTH, NotFound } from "@reco/contracts";
import type { FastifyInstance } from "fastify";
import { keyedScope } from "../http/auth.ts";
import { itemRoutes } from "./items.ts";
import { userRoutes } from "./users.ts";
import { parseRequestPart, queryParser } from "../http/parse.ts";

export interface ServingRoutesDeps {
  authenticator: Authenticator;
  recommendations: RecommendationService;
  feedback: FeedbackService;
  catalog: () => Catalog;
  metrics: ServingMetrics;
  limiter?: RateLimiter;
  /** The item API (PUT/PATCH/DELETE /items/:itemId, POST /items/bulk); left out without it. */
  items?: ItemService;
  /** DELETE /users/:userId and GET /users/:userId/export (admin); left out without it. */
  users?: UserDataService;
}

/** The routes' dependencies as a serving runtime provides them, with the key store that guards them. */
export function servingRoutesDeps(
  runtime: Omit<ServingRoutesDeps, "authenticator">,
  authenticator: Authenticator,
): ServingRoutesDeps {
  const { recommendations, feedback, catalog, metrics, limiter, items, users } = runtime;
  return { authenticator, recommendations, feedback, catalog, metrics, limiter, items, users };
}

/**
 * The scope of the client-facing serving routes: every route registered in `routes` needs a client
 * key (admin keys too) and is charged to that key's token bucket (429s counted in the metrics).
 */
export function servingScope(
  app: FastifyInstance,
  deps: Pick<ServingRoutesDeps, "authenticator" | "limiter" | "metrics">,
  routes: (scope: FastifyInstance) => void | Promise<void>,
): Promise<void> {
  const { authenticator, limiter, metrics } = deps;
  const onLimited = () => metrics.rateLimited.inc();
  return keyedScope(app, { authenticator, role: "client", limiter, onLimited }, routes);
}

/** The REST serving API: thin handlers that validate, call @reco/serving, and answer. */
export async function servingRoutes(app: FastifyInstance, deps: ServingRoutesDeps): Promise<void> {
  const openApi = buildOpenApi();
  const recommendQuery = queryParser(recommendQuerySchema);

  app.get("/openapi.json", async () => openApi);

  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  await servingScope(app, deps, (scope) => {
    scope.get("/recommend/:userId", async (request, reply) => {
      const userId = pathUserId(request.params);
      const query = recommendQuery(rawQuery(request.url), request.query);
      const filter = checkedFilter(deps.catalog(), query.category, query.excludeCategory);
      const body = await deps.recommendations.recommendJson({
        userId,
        k: query.k,
        exclude: query.exclude,
        context: { device: query.device, country: query.country },
        ...(filter ? { filter } : {}),
      });
      // Already JSON (see recommendJson): Fastify sends a string with a JSON content type as it is.
      return reply.type("application/json; charset=utf-8").send(body);
    });

    scope.get("/similar/:itemId", async (request) => {
      const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
      const query = parseRequestPart(similarQuerySchema, request.query, "query");
      const filter = checkedFilter(deps.catalog(), query.category, query.excludeCategory);
      return deps.recommendations.similar(itemId, query.k, filter);
    });

    scope.post("/feedback", async (request, reply) => {
      const events = parseFeedbackBody(request.body);
      const accepted = await deps.feedback.accept(events);
      return reply.status(202).send(accepted);
    });

    scope.get("/items/:itemId", async (request) => {
      const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
      const item = deps.catalog().get(itemId);
      if (!item) throw new NotFound("item", itemId);
      return item;
    });
  });

  if (deps.items) await itemRoutes(app, { authenticator: deps.authenticator, items: deps.items });
  if (deps.users) await userRoutes(app, { authenticator: deps.authenticator, users: deps.users });
}

/** The request's category filter (undefined without one); a category no item has is a 400. */
function checkedFilter(
  catalog: Catalog,
  categories: readonly string[] = [],
  excludeCategories: readonly string[] = [],
): ItemFilter | undefined {
  if (categories.length === 0 && excludeCategories.length === 0) return undefined;
  const filter = { categories, excludeCategories };
  const unknown = catalog.unknownCategories(filter);
  if (unknown.length > 0)
    throw new BadInput(
      `invalid query: no item has the categor${unknown.length > 1 ? "ies" : "y"} ${unknown.map((c) => JSON.stringify(c)).join(", ")}`,
      {
        issues: unknown.map((category) => ({
          in: "query",
          path: categories.includes(category) ? "category" : "excludeCategory",
          message: `unknown category ${JSON.stringify(category)}`,
        })),
      },
    );
  return filter;
}

const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * The path's userId, checked as userParamsSchema checks it (1–MAX_ID_LENGTH characters, no control
 * character, no other field) without running zod, which was about a microsecond of a cached
 * /recommend; anything else goes to the schema, which words the 400.
 */
function pathUserId(params: unknown): string {
  const userId = (params as { userId?: unknown } | undefined)?.userId;
  if (
    typeof userId === "string" &&
    userId.length >= 1 &&
    userId.length <= MAX_ID_LENGTH &&
    !CONTROL_CHARACTER.test(userId) &&
    Object.keys(params as object).length === 1
  )
    return userId;
  return parseRequestPart(userParamsSchema, params, "path").userId;
}

/** The query string of a request URL, as sent ("" when there is none). */
function rawQuery(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}
