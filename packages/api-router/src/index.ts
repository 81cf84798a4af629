export { appRouter, type AppRouter } from "./router.ts";
export { contextFactory, type TrpcContext, type TrpcServices } from "./context.ts";
export {
  adminProcedure,
  createTRPCRouter,
  engineerProcedure,
  pmProcedure,
  publicProcedure,
  viewerProcedure,
} from "./init.ts";
