export { buildServer, type ReadinessChecks, type ServerDeps } from "./server.ts";
export type { AppRouter } from "./trpc/router.ts";
export { servingRoutesDeps } from "./routes/serving.ts";
