import { createTRPCRouter, engineerProcedure, needs, viewerProcedure } from "../init.ts";
import { actHandler } from "./act.handler.ts";
import { actInput } from "./act.schema.ts";
import { defaultsHandler } from "./defaults.handler.ts";
import { getHandler } from "./get.handler.ts";
import { getInput } from "./get.schema.ts";
import { listHandler } from "./list.handler.ts";
import { listInput } from "./list.schema.ts";
import { startHandler } from "./start.handler.ts";
import { startInput } from "./start.schema.ts";

const viewer = viewerProcedure.use(needs("rollouts"));
const engineer = engineerProcedure.use(needs("rollouts"));

/**
 * Reading needs viewer; starting a rollout and acting on one need engineer (or admin); all but the
 * defaults (constants of the plan) need the rollout service.
 */
export const rolloutsRouter = createTRPCRouter({
  list: viewer.input(listInput).query(listHandler),
  get: viewer.input(getInput).query(getHandler),
  /** The default stages, gate margins and evaluation interval (for start forms). */
  defaults: viewerProcedure.query(defaultsHandler),
  start: engineer.input(startInput).mutation(startHandler),
  act: engineer.input(actInput).mutation(actHandler),
});
