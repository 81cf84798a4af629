import { AppError, httpStatusForCode, type ErrorCode } from "@reco/contracts";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Fastify's own 4xx errors, by their code, mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "BAD_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "BAD_REQUEST",
  FST_ERR_CTP_INVALID_JSON_BODY: "BAD_REQUEST",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_VALIDATION: "BAD_REQUEST",
  FST_ERR_BAD_URL: "BAD_REQUEST",
};

/** The one place errors become HTTP answers: always `{error:{code,message,details?}}`, never a stack. */
export function sendError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof AppError) {
    const retryAfter = (error as AppError & { retryAfterS?: number }).retryAfterS;
    if (retryAfter !== undefined)
      reply.header("retry-after", String(Math.max(1, Math.ceil(retryAfter))));
    return reply
      .status(httpStatusForCode[error.code])
      .send(errorBody(error.code, error.message, error.details));
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    const limit = request.routeOptions.bodyLimit;
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
    return reply
      .status(413)
      .send(
        errorBody(
          "PAYLOAD_TOO_LARGE",
          `request body too large: ${route} accepts at most ${limit} bytes`,
          { limitBytes: limit },
        ),
      );
  }
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped)
    return reply.status(httpStatusForCode[mapped]).send(errorBody(mapped, fastifyError.message));
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // JSON.parse failures and other client errors Fastify raised with a 4xx status
    return reply
      .status(status)
      .send(errorBody(status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", error.message));
  }
  request.log.error({ err: error }, "unhandled error");
  return reply.status(500).send(errorBody("INTERNAL", "internal error"));
}
