import { z } from "zod";

export const rolloutId = z
  .number({ error: "id must be a rollout id (a whole number)" })
  .int("id must be a whole number")
  .positive("id must be positive")
  .max(2_147_483_647, "id is out of range");

/** Input of get: the rollout's id. */
export const idInput = z.object({ id: rolloutId }).strict();
export type IdInput = z.infer<typeof idInput>;
