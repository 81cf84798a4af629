import { AppError, Unavailable, type ErrorCode } from "@reco/contracts";
import { roleAllows, type Role } from "@reco/serving";
import { initTRPC, TRPCError } from "@trpc/server";
import type { TrpcContext, TrpcServices } from "./context.ts";

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    // Keep our typed code visible to the client next to tRPC's own, with the error's details
    // (as REST answers carry them: the fields of a 400, the current version of a 409).
    const cause = error.cause instanceof AppError ? error.cause : undefined;
    return {
      ...shape,
      data: { ...shape.data, appCode: cause?.code, details: cause?.details, stack: undefined },
    };
  },
});

const TRPC_CODE: Record<ErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/** Typed application errors thrown by handlers become the matching tRPC error, in one place. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
  }
  return result;
});

function requireRole(required: Role) {
  return t.middleware(({ ctx, type, next }) => {
    if (ctx.keyStoreDown) {
      throw new TRPCError({
        code: "SERVICE_UNAVAILABLE",
        message: "cannot check the API key right now (key store unreachable)",
      });
    }
    if (!ctx.principal) {
      throw new TRPCError({
        code: "UNAUTHORIZED",
        message: ctx.invalidKey
          ? "API key unknown or revoked"
          : "an API key is required (Authorization: Bearer or X-API-Key)",
      });
    }
    // Before the role: a cross-site request learns nothing more than that it was refused.
    if (type === "mutation") refuseCrossSite(ctx);
    if (!roleAllows(ctx.principal.role, required)) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `needs role ${required}, key has ${ctx.principal.role}`,
      });
    }
    return next({ ctx: { ...ctx, principal: ctx.principal } });
  });
}

/** A session's mutation without its CSRF token (or from a foreign Origin) is refused: 403. */
function refuseCrossSite(ctx: TrpcContext): void {
  if (ctx.session?.csrfProblem) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `CSRF check failed: ${ctx.session.csrfProblem}`,
    });
  }
}

/**
 * Signing in needs no principal; a session cookie sent with it must still pass the CSRF check
 * (a signed-in browser's sign-in is a state change too).
 */
const csrfChecked = t.middleware(({ ctx, type, next }) => {
  if (type === "mutation") refuseCrossSite(ctx);
  return next();
});

/** The services a server may be built without (each needs its database). */
export type OptionalService = {
  [K in keyof TrpcServices]-?: undefined extends TrpcServices[K] ? K : never;
}[keyof TrpcServices];

/** What `needs(name)` adds to a procedure's context: the service, no longer optional. */
export type ServiceContext<K extends OptionalService> = { [P in K]: NonNullable<TrpcServices[P]> };

const NOT_CONFIGURED: Record<OptionalService, string> = {
  experiments: "experiments are not configured on this server",
  models: "model versions are not configured on this server",
  artifacts: "object storage is not configured on this server (S3_ENDPOINT)",
  monitoring: "monitoring is not configured on this server",
  rollouts: "rollouts are not configured on this server",
  recommendations: "the serving runtime is not configured on this server",
  retraining: "retraining is not configured on this server",
  accounts: "accounts are not configured on this server",
  pipeline: "the event bus is not configured on this server",
};

/**
 * Narrows the context to the service a procedure needs: `ctx[name]` typed non-optional, or 503
 * (UNAVAILABLE) when this server was built without it. Use it after the role check, so a caller
 * without a valid key learns nothing about what the server has.
 */
export function needs<K extends OptionalService>(name: K) {
  return t.middleware(({ ctx, next }) => {
    const service = ctx.services[name];
    if (!service) throw new Unavailable(NOT_CONFIGURED[name]);
    return next({ ctx: { [name]: service } as ServiceContext<K> });
  });
}

export const createTRPCRouter = t.router;
/** Calls procedures in-process (tests, server-side callers): `createCallerFactory(router)(ctx)`. */
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapAppErrors);
export const signInProcedure = publicProcedure.use(csrfChecked);
export const viewerProcedure = publicProcedure.use(requireRole("viewer"));
export const pmProcedure = publicProcedure.use(requireRole("pm"));
export const engineerProcedure = publicProcedure.use(requireRole("engineer"));
export const adminProcedure = publicProcedure.use(requireRole("admin"));
