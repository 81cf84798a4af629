/** Typed application errors; apps map `code` to HTTP and tRPC statuses in one place. */
export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "TOO_MANY_REQUESTS"
  | "UNAVAILABLE"
  | "INTERNAL";

export interface AppErrorOptions {
  /**
   * A stable, machine-readable code for why it failed (snake_case, e.g. `model_corrupt`), as
   * Fastify's `FST_ERR_*`: callers classify on it, never on `name` or `message`. A package lists the
   * codes it relies on in one catalogue (serving: `FALLBACK_REASONS`); a code is added, never renamed.
   * It survives a thread boundary (`errorFields` → `errorFromFields`).
   */
  reason?: string;
  /** The error this one wraps. */
  cause?: unknown;
}

export class AppError extends Error {
  /** The stable reason code, when the error has one (see `AppErrorOptions.reason`). */
  declare readonly reason?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

/** The stable reason code an error carries (an AppError's, or one rebuilt by `errorFromFields`). */
export function reasonOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { reason } = error as { reason?: unknown };
  return typeof reason === "string" && reason !== "" ? reason : undefined;
}

/**
 * What of an error crosses a thread or process boundary. Structured clone (postMessage) keeps an
 * Error's message but neither its class nor its own fields (`reason`, `code`), so threads send these
 * fields and the receiver rebuilds the error from them.
 */
export interface ErrorFields {
  name: string;
  message: string;
  /** An AppError's `code`, or a Node system error's (`ENOENT`). */
  code?: string;
  reason?: string;
}

export function errorFields(error: unknown): ErrorFields {
  const { name, message, code } = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
  };
  const reason = reasonOf(error);
  return {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : String(error),
    ...(typeof code === "string" ? { code } : {}),
    ...(reason === undefined ? {} : { reason }),
  };
}

/** The error `errorFields` described: an Error with the same name, message, code and reason. */
export function errorFromFields(fields: ErrorFields): Error & { code?: string; reason?: string } {
  const error: Error & { code?: string; reason?: string } = new Error(fields.message);
  error.name = fields.name;
  if (fields.code !== undefined) error.code = fields.code;
  if (fields.reason !== undefined) error.reason = fields.reason;
  return error;
}

export class NotFound extends AppError {
  constructor(what: string, id: string) {
    super("NOT_FOUND", `${what} ${JSON.stringify(id)} not found`);
  }
}

export class BadInput extends AppError {
  constructor(message: string, details?: unknown, options?: AppErrorOptions) {
    super("BAD_REQUEST", message, details, options);
  }
}

export class Unavailable extends AppError {
  constructor(
    message: string,
    readonly retryAfterS = 1,
  ) {
    super("UNAVAILABLE", message);
  }
}

export const httpStatusForCode: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
