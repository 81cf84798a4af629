import { z } from "zod";

/** A model version is named by its model name and version, as in the registry. */
export const nameVersionInput = z
  .object({
    name: z.string().min(1, "model name is required").max(64),
    version: z.string().min(1, "version is required").max(64),
  })
  .strict();
export type NameVersionInput = z.infer<typeof nameVersionInput>;
