import { cookies } from "next/headers";
import { bodyTooLarge, readBodyWithin, SIGN_IN_BODY_LIMIT_BYTES } from "../../../src/body.ts";
import { apiUrl } from "../../../src/env.ts";

export const dynamic = "force-dynamic";

const MAX_KEY_LENGTH = 200;

/**
 * Signs the browser in with an API key: the key is checked against the api, then kept in an
 * httpOnly cookie that only the tRPC proxy reads (scripts in the page never see it).
 */
export async function POST(request: Request): Promise<Response> {
  const text = await readBodyWithin(request, SIGN_IN_BODY_LIMIT_BYTES);
  if (text === null) return bodyTooLarge("POST /api/session", SIGN_IN_BODY_LIMIT_BYTES);
  let body: { key?: unknown } | null = null;
  try {
    body = JSON.parse(text) as { key?: unknown } | null;
  } catch {
    // not JSON: answered below as a missing key
  }
  const key = typeof body?.key === "string" ? body.key.trim() : "";
  if (!key || key.length > MAX_KEY_LENGTH) {
    return Response.json(
      { error: { code: "BAD_REQUEST", message: "key: paste an API key" } },
      { status: 400 },
    );
  }
  const check = await fetch(`${apiUrl()}/trpc/stats.counts`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  }).catch(() => null);
  if (!check)
    return Response.json(
      { error: { code: "UNAVAILABLE", message: "api unreachable" } },
      { status: 503 },
    );
  if (check.status === 401 || check.status === 403) {
    return Response.json(
      {
        error: {
          code: "UNAUTHORIZED",
          message: "that key is unknown, revoked or lacks the viewer role",
        },
      },
      { status: 401 },
    );
  }
  (await cookies()).set("reco_key", key, {
    httpOnly: true,
    sameSite: "strict",
    path: "/",
    maxAge: 30 * 24 * 3600,
  });
  return Response.json({ ok: true });
}

export async function DELETE(): Promise<Response> {
  (await cookies()).delete("reco_key");
  return Response.json({ ok: true });
}
