import { accountsRouter } from "./accounts/router.ts";
import { apiKeysRouter } from "./apiKeys/router.ts";
import { experimentsRouter } from "./experiments/router.ts";
import { createTRPCRouter } from "./init.ts";
import { modelsRouter } from "./models/router.ts";
import { monitoringRouter } from "./monitoring/router.ts";
import { recommendationsRouter } from "./recommendations/router.ts";
import { retrainingRouter } from "./retraining/router.ts";
import { rolloutsRouter } from "./rollouts/router.ts";
import { sessionRouter } from "./session/router.ts";
import { statsRouter } from "./stats/router.ts";

/** One router per domain; the web app imports only `AppRouter`, the type. */
export const appRouter = createTRPCRouter({
  stats: statsRouter,
  apiKeys: apiKeysRouter,
  accounts: accountsRouter,
  experiments: experimentsRouter,
  models: modelsRouter,
  monitoring: monitoringRouter,
  rollouts: rolloutsRouter,
  retraining: retrainingRouter,
  recommendations: recommendationsRouter,
  session: sessionRouter,
});

export type AppRouter = typeof appRouter;
