import { createTRPCRouter, engineerProcedure, needs, viewerProcedure } from "../init.ts";
import { runsHandler, statusHandler, triggerHandler } from "./handlers.ts";
import { runsInput } from "./runs.schema.ts";

const viewer = viewerProcedure.use(needs("retraining"));
const engineer = engineerProcedure.use(needs("retraining"));

/** Reading needs viewer; queuing a run needs engineer (or admin). */
export const retrainingRouter = createTRPCRouter({
  status: viewer.query(statusHandler),
  runs: viewer.input(runsInput).query(runsHandler),
  trigger: engineer.mutation(triggerHandler),
});
