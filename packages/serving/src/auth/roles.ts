/** Roles an API key carries. `client` calls the serving API; the others use the dashboard's tRPC. */
export const ROLES = ["client", "viewer", "pm", "engineer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Dashboard roles are ranked: a higher role can do everything a lower one can. */
const DASHBOARD_RANK: Record<Role, number> = {
  client: -1,
  viewer: 0,
  pm: 1,
  engineer: 2,
  admin: 3,
};

/**
 * Whether a key with `held` may use something that needs `required`.
 * Serving routes (`client`) accept client and admin keys; dashboard roles go by rank.
 */
export function roleAllows(held: Role, required: Role): boolean {
  if (required === "client") return held === "client" || held === "admin";
  if (held === "client") return false;
  return DASHBOARD_RANK[held] >= DASHBOARD_RANK[required];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
