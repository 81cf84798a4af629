import { createTRPCRouter, viewerProcedure } from "../init.ts";
import { whoamiHandler } from "./whoami.handler.ts";

export const sessionRouter = createTRPCRouter({
  /** The calling key's name, prefix, role and what it may change. */
  whoami: viewerProcedure.query(whoamiHandler),
});
