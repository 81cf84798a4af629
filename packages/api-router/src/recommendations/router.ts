import { createTRPCRouter, needs, viewerProcedure } from "../init.ts";
import {
  foldInHandler,
  forUserHandler,
  historyHandler,
  searchItemsHandler,
  searchUsersHandler,
  similarHandler,
  versionsHandler,
} from "./handlers.ts";
import {
  foldInInput,
  forUserInput,
  historyInput,
  searchItemsInput,
  searchUsersInput,
  similarInput,
} from "./schemas.ts";

const viewer = viewerProcedure.use(needs("recommendations"));

/**
 * The recommendations panel: every dashboard role may read (viewer and above); all need the
 * serving runtime (503 without it). Nothing here writes: no feedback, no exposure is logged.
 */
export const recommendationsRouter = createTRPCRouter({
  versions: viewer.query(versionsHandler),
  searchUsers: viewer.input(searchUsersInput).query(searchUsersHandler),
  searchItems: viewer.input(searchItemsInput).query(searchItemsHandler),
  history: viewer.input(historyInput).query(historyHandler),
  forUser: viewer.input(forUserInput).query(forUserHandler),
  similar: viewer.input(similarInput).query(similarHandler),
  foldIn: viewer.input(foldInInput).query(foldInHandler),
});
