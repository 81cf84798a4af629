import { cookies } from "next/headers";
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
  try {
    const upstream = await fetch(target, {
      method: request.method,
      headers,
      body: request.method === "GET" ? undefined : await request.text(),
      signal: AbortSignal.timeout(15_000),
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
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
