/** Cookie names shared with the api (`@reco/api-router` reads the same session cookie). */
export const SESSION_COOKIE = "reco_session";
export const CSRF_COOKIE = "reco_csrf";
export const CSRF_HEADER = "x-csrf-token";
export const KEY_COOKIE = "reco_key";

/**
 * A state-changing request from another site is refused (403): its Origin, when the browser sends
 * one, must name this host. (The CSRF token is checked too: here for sign-out, by the api for
 * tRPC mutations on a session.)
 */
export function foreignOrigin(request: Request): Response | null {
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string | null;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = null;
  }
  if (originHost !== null && originHost === host) return null;
  return Response.json(
    {
      error: { code: "FORBIDDEN", message: `CSRF check failed: Origin ${origin} is not this site` },
    },
    { status: 403 },
  );
}

/** Cookie options: httpOnly unless the page must read it, Secure when served over https. */
export function cookieOptions(request: Request, expires: Date, httpOnly: boolean) {
  const secure =
    new URL(request.url).protocol === "https:" ||
    request.headers.get("x-forwarded-proto") === "https";
  return { httpOnly, sameSite: "lax" as const, secure, path: "/", expires };
}
