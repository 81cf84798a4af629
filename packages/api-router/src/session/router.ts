import { createTRPCRouter, needs, signInProcedure, viewerProcedure } from "../init.ts";
import { signIn } from "../accounts/handlers.ts";
import { signInInput } from "../accounts/schema.ts";
import { whoamiHandler } from "./whoami.handler.ts";

export const sessionRouter = createTRPCRouter({
  /** The caller (key or signed-in account): name, role and what it may change. */
  whoami: viewerProcedure.query(whoamiHandler),
  /**
   * Email and password → a new session: its token (for the httpOnly cookie the web app sets) and
   * CSRF token. Failed attempts are limited per email and per client address (429).
   */
  signIn: signInProcedure
    .input(signInInput)
    .use(needs("accounts"))
    .mutation(({ ctx, input }) => signIn(ctx.accounts, input, ctx.clientAddress ?? "unknown")),
  /** Ends the calling session server-side (its cookie no longer signs anyone in). */
  signOut: viewerProcedure.use(needs("accounts")).mutation(async ({ ctx }) => {
    if (!ctx.session) return { signedOut: false };
    await ctx.accounts.signOut(ctx.session.token);
    return { signedOut: true };
  }),
});
