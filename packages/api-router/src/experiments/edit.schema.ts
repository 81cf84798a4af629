import type { ExperimentDefinitionInput } from "@reco/experiments";
import { z } from "zod";
import { experimentKey } from "./key.schema.ts";

/** The fields to change; validated (and refused field by field while running) by the service. */
export const editInput = z
  .object({
    key: experimentKey,
    patch: z.custom<Partial<ExperimentDefinitionInput>>(
      (value) => typeof value === "object" && value !== null && !Array.isArray(value),
      "patch must be an object of the fields to change",
    ),
  })
  .strict();
export type EditInput = z.infer<typeof editInput>;
