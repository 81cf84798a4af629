import { createTRPCRouter, needs, pmProcedure, viewerProcedure } from "../init.ts";
import { concludeHandler } from "./conclude.handler.ts";
import { concludeInput } from "./conclude.schema.ts";
import { createHandler } from "./create.handler.ts";
import { createInput } from "./create.schema.ts";
import { editHandler } from "./edit.handler.ts";
import { editInput } from "./edit.schema.ts";
import { getHandler } from "./get.handler.ts";
import { getInput } from "./get.schema.ts";
import { listHandler } from "./list.handler.ts";
import { listInput } from "./list.schema.ts";
import { resultsHandler } from "./results.handler.ts";
import { resultsInput } from "./results.schema.ts";
import { startHandler } from "./start.handler.ts";
import { startInput } from "./start.schema.ts";
import { stopHandler } from "./stop.handler.ts";
import { stopInput } from "./stop.schema.ts";

const viewer = viewerProcedure.use(needs("experiments"));
const pm = pmProcedure.use(needs("experiments"));

/** Changes need pm (or above); reading needs viewer; all need the experiment service. */
export const experimentsRouter = createTRPCRouter({
  list: viewer.input(listInput).query(listHandler),
  get: viewer.input(getInput).query(getHandler),
  results: viewer.input(resultsInput).query(resultsHandler),
  create: pm.input(createInput).mutation(createHandler),
  edit: pm.input(editInput).mutation(editHandler),
  start: pm.input(startInput).mutation(startHandler),
  stop: pm.input(stopInput).mutation(stopHandler),
  conclude: pm.input(concludeInput).mutation(concludeHandler),
});
