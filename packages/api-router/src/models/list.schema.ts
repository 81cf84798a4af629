import { z } from "zod";

export const listInput = z
  .object({
    name: z.string().min(1).max(64).optional(),
    stage: z.enum(["candidate", "canary", "stable", "retired"]).optional(),
  })
  .strict()
  .optional();
export type ListInput = z.infer<typeof listInput>;
