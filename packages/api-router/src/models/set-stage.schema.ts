import { MANUAL_STAGES } from "@reco/db";
import { z } from "zod";
import { nameVersionInput } from "./name-version.schema.ts";

export const setStageInput = nameVersionInput
  .extend({
    stage: z.enum(MANUAL_STAGES, {
      error: `stage must be one of ${MANUAL_STAGES.join(", ")} (canary is set by rollouts)`,
    }),
    /** Why the engineer changes it; passed to the model-version store with who (the key). */
    reason: z.string().trim().min(1).max(500).default("manual stage change"),
  })
  .strict();
export type SetStageInput = z.infer<typeof setStageInput>;
