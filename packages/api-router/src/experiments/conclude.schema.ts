import { z } from "zod";
import { experimentKey } from "./key.schema.ts";

export const concludeInput = z
  .object({
    key: experimentKey,
    /** the name of the variant shipped */
    decision: z.string().min(1, "name the variant shipped").max(64),
    decisionReason: z.string().max(2000).optional(),
  })
  .strict();
export type ConcludeInput = z.infer<typeof concludeInput>;
