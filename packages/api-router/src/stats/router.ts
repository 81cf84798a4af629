import { createTRPCRouter, viewerProcedure } from "../init.ts";
import { countsHandler } from "./counts.handler.ts";

export const statsRouter = createTRPCRouter({
  /** Catalog items, users with interactions, and stored ratings. */
  counts: viewerProcedure.query(countsHandler),
});
