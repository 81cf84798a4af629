import { apiKeysRouter } from "./apiKeys/router.ts";
import { experimentsRouter } from "./experiments/router.ts";
import { createTRPCRouter } from "./init.ts";
import { modelsRouter } from "./models/router.ts";
import { monitoringRouter } from "./monitoring/router.ts";
import { statsRouter } from "./stats/router.ts";

/** One router per domain; the web app imports only `AppRouter`, the type. */
export const appRouter = createTRPCRouter({
  stats: statsRouter,
  apiKeys: apiKeysRouter,
  experiments: experimentsRouter,
  models: modelsRouter,
  monitoring: monitoringRouter,
});

export type AppRouter = typeof appRouter;
