import {
  itemParamsSchema,
  itemPatchSchema,
  itemPutSchema,
  parseBulkBody,
  type Authenticator,
  type ItemService,
} from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { keyedScope } from "../http/auth.ts";
import { parseRequestPart } from "../http/parse.ts";

/** 1,000 rows of about 8 KiB each (a row's metadata alone may hold up to 16 KiB). */
export const BULK_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

export interface ItemRoutesDeps {
  authenticator: Authenticator;
  items: ItemService;
}

/** The item API: catalog writes for engineer and admin keys (thin handlers over ItemService). */
export async function itemRoutes(app: FastifyInstance, deps: ItemRoutesDeps): Promise<void> {
  await keyedScope(app, { authenticator: deps.authenticator, role: "engineer" }, (scope) => {
    scope.put("/items/:itemId", async (request) => {
      const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
      return deps.items.put(itemId, parseRequestPart(itemPutSchema, request.body, "body"));
    });

    scope.patch("/items/:itemId", async (request) => {
      const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
      return deps.items.patch(itemId, parseRequestPart(itemPatchSchema, request.body, "body"));
    });

    scope.delete("/items/:itemId", async (request) => {
      const { itemId } = parseRequestPart(itemParamsSchema, request.params, "path");
      return deps.items.delete(itemId);
    });

    scope.post("/items/bulk", { bodyLimit: BULK_BODY_LIMIT_BYTES }, async (request) =>
      deps.items.bulk(parseBulkBody(request.body)),
    );
  });
}
