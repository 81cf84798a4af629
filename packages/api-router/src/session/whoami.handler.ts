import { roleAllows, type Principal } from "@reco/serving";

/**
 * The calling key as the dashboard needs it to decide what to offer: its name, prefix and role,
 * and what that role may change (the procedures still check; this only hides useless buttons).
 */
export function whoamiHandler({ ctx }: { ctx: { principal: Principal } }) {
  const { name, prefix, role } = ctx.principal;
  return {
    name,
    prefix,
    role,
    may: {
      runExperiments: roleAllows(role, "pm"),
      changeModels: roleAllows(role, "engineer"),
      operateRollouts: roleAllows(role, "engineer"),
      manageKeys: roleAllows(role, "admin"),
    },
  };
}
