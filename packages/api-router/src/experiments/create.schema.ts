import type { ExperimentDefinitionInput } from "@reco/experiments";
import { z } from "zod";

/**
 * Any object passes here; the service validates it field by field, so a bad definition is a
 * BAD_REQUEST whose message names each field ("variants[1].weight: …"), not a raw zod dump.
 */
export const createInput = z.custom<ExperimentDefinitionInput>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "an experiment definition object",
);
export type CreateInput = z.infer<typeof createInput>;
