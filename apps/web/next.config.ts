import path from "node:path";
import type { NextConfig } from "next";

/**
 * The dashboard's Content-Security-Policy. Everything comes from this origin (the browser talks only
 * to the same-origin tRPC proxy); no page may be framed. Next.js streams its page data in inline
 * scripts and React sets inline styles (charts), hence 'unsafe-inline' for scripts and styles; the
 * development server also evaluates code (fast refresh), hence 'unsafe-eval' in `next dev` only.
 */
const development = process.env.NODE_ENV === "development";
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${development ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  `connect-src 'self'${development ? " ws:" : ""}`,
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

const config: NextConfig = {
  // The monorepo root, so Next does not guess from stray lockfiles.
  turbopack: { root: path.resolve(import.meta.dirname, "../..") },
  outputFileTracingRoot: path.resolve(import.meta.dirname, "../.."),
  // Type errors are caught by `npm run typecheck` across the monorepo; the build stays a build.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  // On every page and route of the dashboard, the tRPC proxy and the sign-in route included.
  headers: async () => [{ source: "/:path*", headers: securityHeaders }],
};

export default config;
