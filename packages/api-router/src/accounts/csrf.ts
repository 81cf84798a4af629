import { timingSafeEqual } from "node:crypto";

/** The httpOnly cookie holding a browser session's token. */
export const SESSION_COOKIE = "reco_session";
/** The readable cookie the page copies into `x-csrf-token` (double submit, checked per session). */
export const CSRF_COOKIE = "reco_csrf";
export const CSRF_HEADER = "x-csrf-token";

type Headers = Record<string, string | string[] | undefined>;

/** The session token from a Cookie header, or undefined when there is none. */
export function sessionTokenFromCookies(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  for (const part of cookie.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) {
      const value = part.slice(at + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}

/**
 * Why a state-changing request on a session must be refused, or null: the `x-csrf-token` header
 * must equal the session's token (a cross-site form or fetch cannot read it), and an Origin
 * header, when sent, must name this host.
 */
export function csrfProblem(headers: Headers, expected: string): string | null {
  const origin = single(headers.origin);
  const host = single(headers["x-forwarded-host"]) ?? single(headers.host);
  if (origin !== undefined && origin !== "null") {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== host) return `Origin ${origin} is not this site`;
  } else if (origin === "null") {
    return "Origin null is not this site";
  }
  const sent = single(headers[CSRF_HEADER]);
  if (!sent) return `the ${CSRF_HEADER} header is missing`;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return `the ${CSRF_HEADER} header is wrong`;
  return null;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
