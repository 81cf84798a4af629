import { z } from "zod";

export const seriesInput = z
  .object({
    /** how many minutes back, ending with the current minute (or the one holding `until`) */
    minutes: z
      .number()
      .int()
      .min(1)
      .max(10_080, "minutes must be at most 10080 (seven days)")
      .default(60),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .optional();
export type SeriesInput = z.infer<typeof seriesInput>;
