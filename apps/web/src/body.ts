/**
 * Request bodies of the dashboard's route handlers, read up to a limit: Next.js route handlers
 * have none of their own, and the proxy would otherwise hold any body in memory before the api
 * refused it.
 */

/** The tRPC proxy's limit: the api's own for `/trpc` (256 KiB). */
export const TRPC_PROXY_BODY_LIMIT_BYTES = 256 * 1024;
/** The sign-in form's limit: a key is under 100 bytes. */
export const SIGN_IN_BODY_LIMIT_BYTES = 4 * 1024;

/** The body as text, or null when it is larger than `limit` bytes (declared or actually sent). */
export async function readBodyWithin(request: Request, limit: number): Promise<string | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The 413 answer, in the api's error shape. */
export function bodyTooLarge(what: string, limit: number): Response {
  return Response.json(
    {
      error: {
        code: "PAYLOAD_TOO_LARGE",
        message: `request body too large: ${what} accepts at most ${limit} bytes`,
        details: { limitBytes: limit },
      },
    },
    { status: 413 },
  );
}
