export { appRouter, type AppRouter } from "./router.ts";
export { contextFactory, type TrpcContext, type TrpcServices } from "./context.ts";
export { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from "./accounts/csrf.ts";
export {
  adminProcedure,
  createCallerFactory,
  createTRPCRouter,
  engineerProcedure,
  needs,
  pmProcedure,
  publicProcedure,
  viewerProcedure,
  type OptionalService,
  type ServiceContext,
} from "./init.ts";
export {
  createRecommendationsPanel,
  type RecommendationsPanel,
  type RecommendationsPanelDeps,
} from "./recommendations/service.ts";
