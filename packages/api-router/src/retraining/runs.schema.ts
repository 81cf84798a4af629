import { z } from "zod";

export const runsInput = z
  .object({ limit: z.number().int().min(1).max(200).default(20) })
  .strict()
  .optional();
export type RunsInput = z.infer<typeof runsInput>;
