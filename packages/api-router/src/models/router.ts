import { createTRPCRouter, engineerProcedure, needs, viewerProcedure } from "../init.ts";
import { getHandler } from "./get.handler.ts";
import { getInput } from "./get.schema.ts";
import { listHandler } from "./list.handler.ts";
import { listInput } from "./list.schema.ts";
import { setStageHandler } from "./set-stage.handler.ts";
import { setStageInput } from "./set-stage.schema.ts";

const viewer = viewerProcedure.use(needs("models"));
const engineer = engineerProcedure.use(needs("models"));

/** Reading needs viewer; changing a stage needs engineer (or above); all need the version store. */
export const modelsRouter = createTRPCRouter({
  list: viewer.input(listInput).query(listHandler),
  get: viewer.input(getInput).query(getHandler),
  setStage: engineer.input(setStageInput).mutation(setStageHandler),
});
