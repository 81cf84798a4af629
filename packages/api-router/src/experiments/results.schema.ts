import { z } from "zod";
import { experimentKey } from "./key.schema.ts";

export const resultsInput = z
  .object({
    key: experimentKey,
    /** "sequential" (default) is safe to look at every day; "fixed" waits for the minimum sample */
    mode: z.enum(["sequential", "fixed"]).optional(),
    alpha: z.number().gt(0).max(0.5).optional(),
  })
  .strict();
export type ResultsInput = z.infer<typeof resultsInput>;
