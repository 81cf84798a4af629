import { experimentStatusSchema } from "@reco/experiments";
import { z } from "zod";

export const listInput = z
  .object({ status: experimentStatusSchema.optional() })
  .strict()
  .optional();
export type ListInput = z.infer<typeof listInput>;
