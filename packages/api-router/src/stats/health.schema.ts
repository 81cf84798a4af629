import { z } from "zod";

export const healthInput = z
  .object({
    /** the window the figures cover, compared with the window just before it (the trend) */
    minutes: z.number().int().min(1).max(60, "minutes must be at most 60").default(5),
    /** the end of the window (default now) */
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .optional();
export type HealthInput = z.infer<typeof healthInput>;
