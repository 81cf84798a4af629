import { cookies } from "next/headers";
import { bodyTooLarge, readBodyWithin, SIGN_IN_BODY_LIMIT_BYTES } from "../../../src/body.ts";
import { apiUrl } from "../../../src/env.ts";
import {
  CSRF_COOKIE,
  CSRF_HEADER,
  KEY_COOKIE,
  SESSION_COOKIE,
  cookieOptions,
  foreignOrigin,
} from "./shared.ts";

export const dynamic = "force-dynamic";

const MAX_KEY_LENGTH = 200;

const unavailable = (reason?: unknown) =>
  Response.json(
    {
      error: {
        code: "UNAVAILABLE",
        message: `api unreachable${reason instanceof Error ? `: ${reason.message}${reason.cause instanceof Error ? ` (${reason.cause.message})` : ""}` : ""}`,
      },
    },
    { status: 503 },
  );

/**
 * Signs the browser in: with an email and password (a session of the api, its token kept in an
 * httpOnly cookie, its CSRF token in a readable one the page echoes as `x-csrf-token`), or with an
 * API key (checked against the api, then kept in an httpOnly cookie). Scripts never see either.
 */
export async function POST(request: Request): Promise<Response> {
  const refused = foreignOrigin(request);
  if (refused) return refused;
  const text = await readBodyWithin(request, SIGN_IN_BODY_LIMIT_BYTES);
  if (text === null) return bodyTooLarge("POST /api/session", SIGN_IN_BODY_LIMIT_BYTES);
  type SignInBody = { key?: unknown; email?: unknown; password?: unknown } | null;
  let body: SignInBody = null;
  try {
    body = JSON.parse(text) as SignInBody;
  } catch {
    // not JSON: answered below as a missing key
  }
  if (typeof body?.email === "string" || typeof body?.password === "string") {
    return signInWithPassword(request, String(body.email ?? ""), String(body.password ?? ""));
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
  if (!check) return unavailable();
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
  const jar = await cookies();
  await endSession(jar);
  jar.set(KEY_COOKIE, key, {
    httpOnly: true,
    sameSite: "strict",
    path: "/",
    maxAge: 30 * 24 * 3600,
  });
  return Response.json({ ok: true });
}

async function signInWithPassword(
  request: Request,
  email: string,
  password: string,
): Promise<Response> {
  if (!email || !password) {
    return Response.json(
      { error: { code: "BAD_REQUEST", message: "email and password: both are needed" } },
      { status: 400 },
    );
  }
  const askApi = () =>
    fetch(`${apiUrl()}/trpc/session.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(10_000),
    }).catch((error: unknown) => error as Error);
  // Once more on a network error (a pooled connection the api closed): nothing reached the api.
  let answer = await askApi();
  if (answer instanceof Error) answer = await askApi();
  if (answer instanceof Error) return unavailable(answer);
  const json = (await answer.json().catch(() => null)) as {
    result?: { data: { token: string; csrfToken: string; expiresAt: string; role: string } };
    error?: { message: string };
  } | null;
  if (!answer.ok || !json?.result) {
    const status = answer.status === 429 ? 429 : answer.status >= 500 ? 503 : 401;
    return Response.json(
      {
        error: {
          code:
            status === 429 ? "TOO_MANY_REQUESTS" : status === 503 ? "UNAVAILABLE" : "UNAUTHORIZED",
          message: json?.error?.message ?? `sign-in failed (${answer.status})`,
        },
      },
      { status },
    );
  }
  const { token, csrfToken, expiresAt, role } = json.result.data;
  const jar = await cookies();
  await endSession(jar);
  jar.delete(KEY_COOKIE);
  const expires = new Date(expiresAt);
  jar.set(SESSION_COOKIE, token, cookieOptions(request, expires, true));
  jar.set(CSRF_COOKIE, csrfToken, cookieOptions(request, expires, false));
  return Response.json({ ok: true, role });
}

/** Ends the browser's api session, if any, server-side; its cookies go too. */
async function endSession(jar: Awaited<ReturnType<typeof cookies>>): Promise<void> {
  const token = jar.get(SESSION_COOKIE)?.value;
  const csrf = jar.get(CSRF_COOKIE)?.value;
  if (token && csrf) {
    await fetch(`${apiUrl()}/trpc/session.signOut`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: `${SESSION_COOKIE}=${token}`,
        [CSRF_HEADER]: csrf,
      },
      body: "{}",
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
  }
  jar.delete(SESSION_COOKIE);
  jar.delete(CSRF_COOKIE);
}

/** Signs out: the session ends server-side. Needs the CSRF header, as every state change does. */
export async function DELETE(request: Request): Promise<Response> {
  const refused = foreignOrigin(request);
  if (refused) return refused;
  const jar = await cookies();
  const csrf = jar.get(CSRF_COOKIE)?.value;
  if (jar.get(SESSION_COOKIE) && (!csrf || request.headers.get(CSRF_HEADER) !== csrf)) {
    return Response.json(
      {
        error: {
          code: "FORBIDDEN",
          message: `CSRF check failed: the ${CSRF_HEADER} header is missing or wrong`,
        },
      },
      { status: 403 },
    );
  }
  await endSession(jar);
  jar.delete(KEY_COOKIE);
  return Response.json({ ok: true });
}
