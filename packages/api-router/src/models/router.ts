import { createTRPCRouter, engineerProcedure, viewerProcedure } from "../init.ts";
import { getHandler } from "./get.handler.ts";
import { getInput } from "./get.schema.ts";
import { listHandler } from "./list.handler.ts";
import { listInput } from "./list.schema.ts";
import { setStageHandler } from "./set-stage.handler.ts";
import { setStageInput } from "./set-stage.schema.ts";

/** Reading needs viewer; changing a stage needs engineer (or above). */
export const modelsRouter = createTRPCRouter({
  list: viewerProcedure.input(listInput).query(listHandler),
  get: viewerProcedure.input(getInput).query(getHandler),
  setStage: engineerProcedure.input(setStageInput).mutation(setStageHandler),
});
