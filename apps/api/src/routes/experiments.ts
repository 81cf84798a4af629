import { MAX_ID_LENGTH } from "@reco/contracts";
import { experimentKeySchema } from "@reco/experiments";
import type { ExperimentAssigner, ExperimentService } from "@reco/experiments/store";
import type { Authenticator, RateLimiter } from "@reco/serving";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { keyedScope } from "../http/auth.ts";
import { parseRequestPart } from "../http/parse.ts";

export interface ExperimentRoutesDeps {
  authenticator: Authenticator;
  assigner: Pick<ExperimentAssigner, "assignment">;
  experiments: Pick<ExperimentService, "expose" | "recordOutcome">;
  limiter?: RateLimiter;
}

/** Exposure and outcome bodies are a user id and a rating: a few hundred bytes at most. */
export const EXPERIMENT_BODY_LIMIT_BYTES = 4 * 1024;

/** User ids as the serving routes take them: 1–256 characters, no control characters (a NUL failed in the database: 500). */
const id = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[^\p{Cc}]+$/u, "must not contain control characters");
const keyParams = z.object({ key: experimentKeySchema });
const assignmentParams = keyParams.extend({ userId: id });
const exposureBody = z.object({ userId: id }).strict();
const outcomeBody = z.discriminatedUnion("kind", [
  z.object({ userId: id, kind: z.literal("click") }).strict(),
  z.object({ userId: id, kind: z.literal("watch") }).strict(),
  z.object({ userId: id, kind: z.literal("rating"), rating: z.number() }).strict(),
]);

/** Client-facing experiment routes: assignment, exposure and outcome logging; all need a client key. */
export async function experimentRoutes(
  app: FastifyInstance,
  deps: ExperimentRoutesDeps,
): Promise<void> {
  const { authenticator, limiter } = deps;
  await keyedScope(app, { authenticator, role: "client", limiter }, (scope) => {
    /** Which variant the user gets; pure (logs nothing), the same from every api process. */
    scope.get("/experiments/:key/assignment/:userId", async (request) => {
      const { key, userId } = parseRequestPart(assignmentParams, request.params, "path");
      const assignment = await deps.assigner.assignment(key, userId);
      return { userId, ...assignment };
    });

    /** The client showed the experiment to the user: assigns and logs the exposure. */
    scope.post(
      "/experiments/:key/exposures",
      { bodyLimit: EXPERIMENT_BODY_LIMIT_BYTES },
      async (request) => {
        const { key } = parseRequestPart(keyParams, request.params, "path");
        const { userId } = parseRequestPart(exposureBody, request.body, "body");
        return { userId, ...(await deps.experiments.expose(key, userId)) };
      },
    );

    /** A click, watch or rating by an exposed user. */
    scope.post(
      "/experiments/:key/outcomes",
      { bodyLimit: EXPERIMENT_BODY_LIMIT_BYTES },
      async (request) => {
        const { key } = parseRequestPart(keyParams, request.params, "path");
        const { userId, ...outcome } = parseRequestPart(outcomeBody, request.body, "body");
        return { userId, ...(await deps.experiments.recordOutcome(key, userId, outcome)) };
      },
    );
  });
}
