export { buildServer, type ReadinessChecks, type ServerDeps } from "./server.ts";
export { servingRoutesDeps } from "./routes/serving.ts";
