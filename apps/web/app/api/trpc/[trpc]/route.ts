import { cookies } from "next/headers";
import { bodyTooLarge, readBodyWithin, TRPC_PROXY_BODY_LIMIT_BYTES } from "../../../../src/body.ts";
import { apiUrl, webEnv } from "../../../../src/env.ts";
import { CSRF_HEADER, KEY_COOKIE, SESSION_COOKIE, foreignOrigin } from "../../session/shared.ts";

export const dynamic = "force-dynamic";

/**
 * Same-origin proxy to the api's tRPC endpoint. The visitor's session (signed in with an account)
 * travels as its cookie with the page's CSRF header, or the visitor's key (cookie set on the sign-in
 * form) as a Bearer header; the browser never talks to the api directly. Posts from another Origin
 * are refused here already.
 */
async function forward(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const api = apiUrl();
  const target = `${api}/trpc${url.pathname.replace(/^\/api\/trpc/, "")}${url.search}`;
  if (request.method !== "GET") {
    const refused = foreignOrigin(request);
    if (refused) return refused;
  }
  const jar = await cookies();
  const session = jar.get(SESSION_COOKIE)?.value;
  const key = session ? undefined : (jar.get(KEY_COOKIE)?.value ?? webEnv.DASHBOARD_API_KEY);
  const headers = new Headers({
    "content-type": request.headers.get("content-type") ?? "application/json",
  });
  if (session) {
    // A signed-in account: the api checks the session and, on mutations, the CSRF header the page
    // echoed from its cookie (a cross-site request cannot read it).
    headers.set("cookie", `${SESSION_COOKIE}=${session}`);
    const csrf = request.headers.get(CSRF_HEADER);
    if (csrf) headers.set(CSRF_HEADER, csrf);
  } else if (key) headers.set("authorization", `Bearer ${key}`);
  const body =
    request.method === "GET"
      ? undefined
      : await readBodyWithin(request, TRPC_PROXY_BODY_LIMIT_BYTES);
  if (body === null) return bodyTooLarge(`POST ${url.pathname}`, TRPC_PROXY_BODY_LIMIT_BYTES);
  try {
    const upstream = await fetch(target, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: {
        "content-type": upstream.headers.get("content-type") ?? "application/json",
        // per visitor, and a new key or webhook secret is shown once: never kept by a cache
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    return Response.json(
      {
        error: {
          code: "UNAVAILABLE",
          message: `api unreachable at ${api}: ${(error as Error).message}`,
        },
      },
      { status: 503 },
    );
  }
}

export { forward as GET, forward as POST };
