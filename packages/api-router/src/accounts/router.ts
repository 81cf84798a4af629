import { adminProcedure, createTRPCRouter, needs } from "../init.ts";
import { accountCall } from "./handlers.ts";
import { accountIdInput, createAccountInput, setPasswordInput, setRoleInput } from "./schema.ts";

/** People's accounts, for admins: list, create (with an initial password), role, disable. */
export const accountsRouter = createTRPCRouter({
  list: adminProcedure.use(needs("accounts")).query(({ ctx }) => ctx.accounts.list()),
  create: adminProcedure
    .input(createAccountInput)
    .use(needs("accounts"))
    .mutation(({ ctx, input }) => accountCall(() => ctx.accounts.create(input))),
  setRole: adminProcedure
    .input(setRoleInput)
    .use(needs("accounts"))
    .mutation(async ({ ctx, input }) => {
      await accountCall(() => ctx.accounts.setRole(input.id, input.role), input.id);
      return { id: input.id, role: input.role };
    }),
  setPassword: adminProcedure
    .input(setPasswordInput)
    .use(needs("accounts"))
    .mutation(async ({ ctx, input }) => {
      await accountCall(() => ctx.accounts.setPassword(input.id, input.password), input.id);
      return { id: input.id };
    }),
  disable: adminProcedure
    .input(accountIdInput)
    .use(needs("accounts"))
    .mutation(async ({ ctx, input }) => {
      await accountCall(() => ctx.accounts.disable(input.id), input.id);
      return { id: input.id, disabled: true };
    }),
  enable: adminProcedure
    .input(accountIdInput)
    .use(needs("accounts"))
    .mutation(async ({ ctx, input }) => {
      await accountCall(() => ctx.accounts.enable(input.id), input.id);
      return { id: input.id, disabled: false };
    }),
});
