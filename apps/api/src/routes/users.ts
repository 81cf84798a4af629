import { userParamsSchema, type Authenticator, type UserDataService } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { keyedScope } from "../http/auth.ts";
import { parseRequestPart } from "../http/parse.ts";

export interface UserRoutesDeps {
  authenticator: Authenticator;
  users: UserDataService;
}

/** User data deletion and export, for admin keys only (thin handlers over UserDataService). */
export async function userRoutes(app: FastifyInstance, deps: UserRoutesDeps): Promise<void> {
  await keyedScope(app, { authenticator: deps.authenticator, role: "admin" }, (scope) => {
    scope.delete("/users/:userId", async (request, reply) => {
      const { userId } = parseRequestPart(userParamsSchema, request.params, "path");
      const requestedBy = request.principal?.name ?? "unknown key";
      const { record } = await deps.users.delete(userId, requestedBy);
      return reply.status(record.status === "done" ? 200 : 202).send(record);
    });

    scope.get("/users/:userId/export", async (request) => {
      const { userId } = parseRequestPart(userParamsSchema, request.params, "path");
      return deps.users.export(userId);
    });
  });
}
