import { roleAllows, type Principal } from "@reco/serving";

/**
 * The calling key as the dashboard needs it to decide what to offer: its name, prefix and role,
 * and what that role may change (the procedures still check; this only hides useless buttons).
 */
export function whoamiHandler({ ctx }: { ctx: { principal: Principal } }) {
  const { name, prefix, role } = ctx.principal;
  const email = "email" in ctx.principal ? String(ctx.principal.email) : undefined;
  return {
    name,
    prefix,
    role,
    kind: email === undefined ? ("key" as const) : ("account" as const),
    email,
    may: {
      runExperiments: roleAllows(role, "pm"),
      changeModels: roleAllows(role, "engineer"),
      operateRollouts: roleAllows(role, "engineer"),
      manageKeys: roleAllows(role, "admin"),
    },
  };
}
