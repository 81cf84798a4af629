import { MANUAL_ACTIONS } from "@reco/rollouts";
import { z } from "zod";
import { rolloutId } from "./id.schema.ts";

export const actInput = z
  .object({
    id: rolloutId,
    action: z.enum(MANUAL_ACTIONS, {
      error: `action must be one of ${MANUAL_ACTIONS.join(", ")}`,
    }),
    /** The rollout version the caller decided on; another version answers 409 (reload, decide again). */
    version: z
      .number({ error: "version must be the rollout's version (a whole number)" })
      .int("version must be a whole number")
      .nonnegative("version must not be negative"),
    reason: z.string().trim().max(2_000).optional(),
  })
  .strict();
export type ActInput = z.infer<typeof actInput>;
