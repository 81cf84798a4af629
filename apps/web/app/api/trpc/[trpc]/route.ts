import { cookies } from "next/headers";
import { bodyTooLarge, readBodyWithin, TRPC_PROXY_BODY_LIMIT_BYTES } from "../../../../src/body.ts";
import { apiUrl, webEnv } from "../../../../src/env.ts";

export const dynamic = "force-dynamic";

/**
 * Same-origin proxy to the api's tRPC endpoint. The visitor's key (cookie set on the sign-in form)
 * travels server-side as a Bearer header; the browser never talks to the api directly.
 */
async function forward(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const api = apiUrl();
  const target = `${api}/trpc${url.pathname.replace(/^\/api\/trpc/, "")}${url.search}`;
  const key = (await cookies()).get("reco_key")?.value ?? webEnv.DASHBOARD_API_KEY;
  const headers = new Headers({
    "content-type": request.headers.get("content-type") ?? "application/json",
  });
  if (key) headers.set("authorization", `Bearer ${key}`);
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
