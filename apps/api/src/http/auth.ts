import { AppError, Unavailable } from "@reco/contracts";
import {
  apiKeyFromHeaders,
  roleAllows,
  type Authenticator,
  type Principal,
  type Role,
  type RateLimiter,
} from "@reco/serving";
import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * onRequest hook for REST routes (before the body is read, so a caller without a valid key cannot
 * make the api read one): a key with `role` is required (Bearer or X-API-Key), then the key's
 * token bucket is charged (429 + Retry-After when empty).
 */
export function requireKey(
  authenticator: Authenticator,
  role: Role,
  limiter?: RateLimiter,
  onLimited?: () => void,
) {
  return async (request: FastifyRequest): Promise<void> => {
    const key = apiKeyFromHeaders(request.headers);
    if (key === undefined)
      throw new AppError(
        "UNAUTHORIZED",
        "an API key is required (Authorization: Bearer <key> or X-API-Key)",
      );
    const principal = await authenticator.authenticate(key).catch((error: unknown) => {
      request.log.warn({ err: error }, "API key lookup failed");
      throw new Unavailable("cannot check the API key right now (key store unreachable)", 2);
    });
    if (!principal) throw new AppError("UNAUTHORIZED", "API key unknown or revoked");
    if (!roleAllows(principal.role, role)) {
      throw new AppError(
        "FORBIDDEN",
        `this route needs a ${role} key; the key has role ${principal.role}`,
      );
    }
    request.principal = principal;
    const decision = await limiter?.take(principal.prefix);
    if (decision && !decision.allowed) {
      onLimited?.();
      throw Object.assign(
        new AppError("TOO_MANY_REQUESTS", `rate limit exceeded for key ${principal.prefix}`),
        {
          retryAfterS: decision.retryAfterS,
        },
      );
    }
  };
}

export interface KeyScopeOptions {
  authenticator: Authenticator;
  /** The least role a key needs for every route of the scope. */
  role: Role;
  /** Charged per key after the role check (429 + Retry-After when empty). */
  limiter?: RateLimiter;
  /** Called when the limiter refuses a request (e.g. to count it). */
  onLimited?: () => void;
}

/**
 * Registers `routes` in their own Fastify scope whose onRequest hook requires a key with
 * `options.role`: the check is declared once for the scope, so a route added there cannot forget
 * it. Hooks and handlers of the parent (errors, 404, CORS, metrics) still apply inside.
 */
export async function keyedScope(
  app: FastifyInstance,
  options: KeyScopeOptions,
  routes: (scope: FastifyInstance) => void | Promise<void>,
): Promise<void> {
  const { authenticator, role, limiter, onLimited } = options;
  await app.register(async (scope) => {
    scope.addHook("onRequest", requireKey(authenticator, role, limiter, onLimited));
    await routes(scope);
  });
}
