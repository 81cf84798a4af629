import { createTRPCRouter, needs, viewerProcedure } from "../init.ts";
import { seriesHandler } from "./series.handler.ts";
import { seriesInput } from "./series.schema.ts";

export const monitoringRouter = createTRPCRouter({
  series: viewerProcedure.use(needs("monitoring")).input(seriesInput).query(seriesHandler),
});
