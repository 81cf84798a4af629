import { createTRPCRouter, pmProcedure, viewerProcedure } from "../init.ts";
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

/** Changes need pm (or above); reading needs viewer. */
export const experimentsRouter = createTRPCRouter({
  list: viewerProcedure.input(listInput).query(listHandler),
  get: viewerProcedure.input(getInput).query(getHandler),
  results: viewerProcedure.input(resultsInput).query(resultsHandler),
  create: pmProcedure.input(createInput).mutation(createHandler),
  edit: pmProcedure.input(editInput).mutation(editHandler),
  start: pmProcedure.input(startInput).mutation(startHandler),
  stop: pmProcedure.input(stopInput).mutation(stopHandler),
  conclude: pmProcedure.input(concludeInput).mutation(concludeHandler),
});
