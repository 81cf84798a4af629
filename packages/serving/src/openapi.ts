import { z } from "zod";
import {
  errorSchema,
  feedbackAcceptedSchema,
  feedbackBatchSchema,
  feedbackEventSchema,
  itemParamsSchema,
  itemSchema,
  recommendQuerySchema,
  recommendationSchema,
  similarItemsSchema,
  similarQuerySchema,
  userParamsSchema,
} from "./schemas.ts";
import {
  MAX_BULK_ITEMS,
  bulkResultSchema,
  bulkRowSchema,
  itemPatchSchema,
  itemPutSchema,
  storedItemSchema,
} from "./items.ts";

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

function parameters(where: "path" | "query", schema: z.ZodObject): JsonSchema[] {
  const whole = jsonSchema(schema, "input") as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(whole.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (whole.required ?? []).includes(name),
    schema: property,
  }));
}

const json = (schema: z.ZodType) => ({
  "application/json": { schema: jsonSchema(schema, "output") },
});
const errorResponse = (description: string) => ({ description, content: json(errorSchema) });
const body = (schema: z.ZodType) => ({
  required: true,
  content: { "application/json": { schema: jsonSchema(schema, "input") } },
});
const writeErrors = {
  "400": errorResponse("invalid input; details name the fields (unknown fields are refused)"),
  "401": errorResponse("missing, unknown or revoked API key"),
  "403": errorResponse("the key's role may not call this (engineer or admin keys only)"),
  "413": errorResponse("body too large"),
  "503": errorResponse(
    "stored in the database but not announced on the catalog topic (bus down), or the key cannot be checked; retry: writes are idempotent",
  ),
};
const commonErrors = {
  "400": errorResponse("invalid input; details name the fields"),
  "401": errorResponse("missing, unknown or revoked API key"),
  "403": errorResponse("the key's role may not call this"),
  "429": errorResponse("rate limit exceeded; see Retry-After"),
  "503": errorResponse(
    "the API key cannot be checked right now (database unreachable, and the key not confirmed within the last-known-good window); see Retry-After",
  ),
};

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
const deletionRecordSchema = z.object({
  userId: z.string(),
  status: z.enum(["pending", "done"]),
  requestedBy: z.string(),
  requestedAt: z.string(),
  completedAt: z.string().nullable(),
  removed: z.object({
    snapshotFiles: z.number().int(),
    snapshotRows: z.number().int(),
    cacheEntries: z.number().int(),
    experimentStatRows: z.number().int(),
    userRows: z.number().int(),
  }),
});

const userExportSchema = z.object({
  userId: z.string(),
  exportedAt: z.string(),
  profile: z.object({ attributes: z.unknown(), createdAt: z.string() }).nullable(),
  events: z.array(
    z.object({
      topic: z.string(),
      eventId: z.string(),
      eventTime: z.string(),
      type: z.string(),
      itemId: z.string().nullable(),
      value: z.number().nullable(),
      event: z.unknown(),
    }),
  ),
  experiments: z.array(z.object({ experimentKey: z.string(), variant: z.string() }).passthrough()),
  cached: z.object({
    recentItems: z.array(z.unknown()),
    sharedRecentItems: z.array(z.unknown()),
    sharedSeenItems: z.array(z.string()),
  }),
  deletion: deletionRecordSchema.nullable(),
});

export function buildOpenApi(info: { title?: string; version?: string } = {}): JsonSchema {
  return {
    openapi: "3.1.0",
    info: { title: info.title ?? "Reco serving API", version: info.version ?? "1.0.0" },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      "/recommend/{userId}": {
        get: {
          summary: "Top-k recommendations for a user (popularity for unknown or cold users)",
          description:
            "Never returns items that are unavailable, deleted or outside their availability window. `category` (comma-separated, any of) and `excludeCategory` (none of) filter by item category, case-insensitively, before the top-k cut: the answer holds k items when k exist, topped up from popularity within the filter. An unknown category is a 400.",
          parameters: [
            ...parameters("path", userParamsSchema),
            ...parameters("query", recommendQuerySchema),
          ],
          responses: {
            "200": { description: "recommendations", content: json(recommendationSchema) },
            ...commonErrors,
          },
        },
      },
      "/similar/{itemId}": {
        get: {
          summary: "Items similar to an item",
          description:
            "Only available items; `category` and `excludeCategory` filter as on /recommend, topped up from popularity within the filter.",
          parameters: [
            ...parameters("path", itemParamsSchema),
            ...parameters("query", similarQuerySchema),
          ],
          responses: {
            "200": { description: "similar items", content: json(similarItemsSchema) },
            "404": errorResponse("unknown item"),
            ...commonErrors,
          },
        },
      },
      "/feedback": {
        post: {
          summary: "One interaction, or a batch of up to 1000",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    jsonSchema(feedbackEventSchema, "input"),
                    jsonSchema(feedbackBatchSchema, "input"),
                  ],
                },
              },
            },
          },
          responses: {
            "202": {
              description:
                "stored: every event of the request is durably on the event bus (embedded log written and fdatasync'd; Kafka acknowledged by all in-sync replicas) and will reach the snapshots, even if the api is killed right after this answer",
              content: json(feedbackAcceptedSchema),
            },
            "413": errorResponse("body too large"),
            ...commonErrors,
            "503": errorResponse(
              "not stored: the queue to the event bus is full (nothing was kept), or the bus did not store the events within the bound; retry after Retry-After seconds. In the second case details.eventIds lists the ids given to the events and part of them may have been stored: send them back as eventId in the retry, so a stored event and its retry share one id (readers count an id once)",
            ),
          },
        },
      },
      "/items/{itemId}": {
        get: {
          summary: "One catalog item",
          parameters: parameters("path", itemParamsSchema),
          responses: {
            "200": { description: "the item", content: json(itemSchema) },
            "404": errorResponse("unknown item"),
            ...commonErrors,
          },
        },
        put: {
          summary: "Create or replace an item (engineer or admin key)",
          description:
            "The whole item: fields left out take their defaults (available: true, no bounds, no categories). Replacing a deleted item brings it back. The database is written first, then every api instance is told through the catalog topic; recommendations follow within seconds.",
          parameters: parameters("path", itemParamsSchema),
          requestBody: body(itemPutSchema),
          responses: {
            "200": { description: "the item as stored", content: json(storedItemSchema) },
            ...writeErrors,
          },
        },
        patch: {
          summary: "Change some fields of an item (engineer or admin key)",
          parameters: parameters("path", itemParamsSchema),
          requestBody: body(itemPatchSchema),
          responses: {
            "200": { description: "the item as stored", content: json(storedItemSchema) },
            "404": errorResponse("unknown or deleted item"),
            ...writeErrors,
          },
        },
        delete: {
          summary: "Soft-delete an item (engineer or admin key)",
          description:
            "Never recommended again from this answer on; the row stays (history, GET /items shows deletedAt). Idempotent. PUT brings it back.",
          parameters: parameters("path", itemParamsSchema),
          responses: {
            "200": { description: "the item as stored", content: json(storedItemSchema) },
            "404": errorResponse("unknown item"),
            ...writeErrors,
          },
        },
      },
      "/items/bulk": {
        post: {
          summary: `Create or replace up to ${MAX_BULK_ITEMS} items at once (engineer or admin key)`,
          description:
            "All or nothing: every row is validated first; if any is bad the answer is a 400 whose details.rows name each bad row by index (and itemId) with the field and the reason, and no row is applied. Valid rows are written in one transaction.",
          requestBody: body(
            z.object({ items: z.array(bulkRowSchema).min(1).max(MAX_BULK_ITEMS) }).strict(),
          ),
          responses: {
            "200": { description: "how many items were written", content: json(bulkResultSchema) },
            ...writeErrors,
          },
        },
      },
      "/users/{userId}": {
        delete: {
          summary: "Delete everything stored about a user (admin key)",
          description:
            "Recorded in the audit table (status pending), then the user's events are removed from every snapshot file (each rewritten atomically), their cached answers, recent-items lists and shared seen set, experiment statistics (exposures; assignments are not stored: they are a hash of the user id) and `users` row, and every api instance drops their history and fold-in state (users topic). 200 with status done when finished; 202 with status pending when a step failed or it is already running (it finishes by itself, also after a crash: resumed at the next start). Idempotent: asking again answers the existing request's status. Events of the user that arrive afterwards are stored as a new history (see docs/security.md).",
          parameters: parameters("path", userParamsSchema),
          responses: {
            "200": { description: "the deletion, done", content: json(deletionRecordSchema) },
            "202": {
              description: "the deletion, still pending (running or to be retried)",
              content: json(deletionRecordSchema),
            },
            "404": errorResponse("nothing is stored about this user"),
            ...commonErrors,
          },
        },
      },
      "/users/{userId}/export": {
        get: {
          summary: "Everything stored about a user, as JSON (admin key)",
          description:
            "The snapshot events (interactions, recommendation requests and responses, each with its original payload), the experiment arms and per-user statistics, the cached recent items and seen set, the `users` row and the deletion request, if any (after a deletion: empty lists and its status).",
          parameters: parameters("path", userParamsSchema),
          responses: {
            "200": { description: "the user's data", content: json(userExportSchema) },
            "404": errorResponse("nothing is stored about this user"),
            ...commonErrors,
          },
        },
      },
      "/healthz": {
        get: { summary: "Alive", security: [], responses: { "200": { description: "alive" } } },
      },
      "/readyz": {
        get: {
          summary: "Database reachable and a model or the popularity fallback loaded",
          security: [],
          responses: {
            "200": { description: "ready" },
            "503": errorResponse("not ready; details name the failing checks"),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          security: [],
          responses: { "200": { description: "text exposition format" } },
        },
      },
    },
  };
}
