import { createTRPCRouter, viewerProcedure } from "../init.ts";
import { countsHandler } from "./counts.handler.ts";
import { healthHandler } from "./health.handler.ts";
import { healthInput } from "./health.schema.ts";

export const statsRouter = createTRPCRouter({
  /** Catalog items, users with interactions, and stored ratings. */
  counts: viewerProcedure.query(countsHandler),
  /** The system at a glance: recent traffic, quality and latency with a trend, and what runs. */
  health: viewerProcedure.input(healthInput).query(healthHandler),
});
