import { createTRPCRouter, engineerProcedure, viewerProcedure } from "../init.ts";
import { actHandler } from "./act.handler.ts";
import { actInput } from "./act.schema.ts";
import { defaultsHandler } from "./defaults.handler.ts";
import { getHandler } from "./get.handler.ts";
import { getInput } from "./get.schema.ts";
import { listHandler } from "./list.handler.ts";
import { listInput } from "./list.schema.ts";
import { startHandler } from "./start.handler.ts";
import { startInput } from "./start.schema.ts";

/** Reading needs viewer; starting a rollout and acting on one need engineer (or admin). */
export const rolloutsRouter = createTRPCRouter({
  list: viewerProcedure.input(listInput).query(listHandler),
  get: viewerProcedure.input(getInput).query(getHandler),
  /** The default stages, gate margins and evaluation interval (for start forms). */
  defaults: viewerProcedure.query(defaultsHandler),
  start: engineerProcedure.input(startInput).mutation(startHandler),
  act: engineerProcedure.input(actInput).mutation(actHandler),
});
