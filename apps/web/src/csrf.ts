/**
 * The CSRF header every state-changing request carries: the token the sign-in left in the readable
 * `reco_csrf` cookie (double submit; the api compares it with the session's own).
 */
export function csrfHeaders(): Record<string, string> {
  if (typeof document === "undefined") return {};
  const match = /(?:^|;\s*)reco_csrf=([^;]+)/.exec(document.cookie);
  return match ? { "x-csrf-token": decodeURIComponent(match[1]!) } : {};
}
