import { ROLLOUT_STATUSES } from "@reco/rollouts";
import { z } from "zod";

export const listInput = z
  .object({
    status: z.enum(ROLLOUT_STATUSES).optional(),
    modelName: z.string().min(1).max(200).optional(),
  })
  .strict()
  .optional();
export type ListInput = z.infer<typeof listInput>;
