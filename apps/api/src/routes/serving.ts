import {
  buildOpenApi,
  itemParamsSchema,
  parseFeedbackBody,
  recommendQuerySchema,
  similarQuerySchema,
  userParamsSchema,
  type Authenticator,
  type Catalog,
  type FeedbackService,
  type RecommendationService,
  type ServingMetrics,
  type TokenBucketLimiter,
} from "@reco/serving";
import { NotFound } from "@reco/contracts";
import type { FastifyInstance } from "fastify";
import { requireKey } from "../http/auth.ts";
import { parseRequestPart, queryParser } from "../http/parse.ts";

export interface ServingRoutesDeps {
  authenticator: Authenticator;
  recommendations: RecommendationService;
  feedback: FeedbackService;
  catalog: () => Catalog;
  metrics: ServingMetrics;
  limiter?: TokenBucketLimiter;
}

/** The routes' dependencies as a serving runtime provides them, with the key store that guards them. */
export function servingRoutesDeps(
  runtime: Omit<ServingRoutesDeps, "authenticator">,
  authenticator: Authenticator,
): ServingRoutesDeps {
  const { recommendations, feedback, catalog, metrics, limiter } = runtime;
  return { authenticator, recommendations, feedback, catalog, metrics, limiter };
}

/** The REST serving API: thin handlers that validate, call @reco/serving, and answer. */
export async function servingRoutes(app: FastifyInstance, deps: ServingRoutesDeps): Promise<void> {
  const client = requireKey(deps.authenticator, "client", deps.limiter, () =>
    deps.metrics.rateLimited.inc(),
  );
  const openApi = buildOpenApi();
  const recommendQuery = queryParser(recommendQuerySchema);

  app.get("/openapi.json", async () => openApi);

  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get("/recommend/:userId", { preHandler: client }, async (request, reply) => {
    const { userId } = parseRequestPart(userParamsSchema, request.params, "path");
    const query = recommendQuery(rawQuery(request.url), request.query);
    const body = await deps.recommendations.recommendJson({
      userId,
      k: query.k,
      exclude: query.exclude,
      context: { device: query.device, country: query.country },
    });
    // Already JSON (see recommendJson): Fastify sends a string with a JSON content type as it is.
    return reply.type("application/json; charset=utf-8").send(body);
  });

  app.get("/similar/:itemId", { preHandler: client }, async (request) => {
    const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
    const { k } = parseRequestPart(similarQuerySchema, request.query, "query");
    return deps.recommendations.similar(itemId, k);
  });

  app.post("/feedback", { preHandler: client }, async (request, reply) => {
    const events = parseFeedbackBody(request.body);
    const accepted = await deps.feedback.accept(events);
    return reply.status(202).send(accepted);
  });

  app.get("/items/:itemId", { preHandler: client }, async (request) => {
    const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
    const item = deps.catalog().get(itemId);
    if (!item) throw new NotFound("item", itemId);
    return item;
  });
}

/** The query string of a request URL, as sent ("" when there is none). */
function rawQuery(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}
