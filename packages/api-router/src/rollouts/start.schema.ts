import type { RolloutInput } from "@reco/rollouts";
import { z } from "zod";

/**
 * Any object passes here; the service validates it field by field, so a bad plan is a
 * BAD_REQUEST whose message and `details.issues` name each field ("stages[1].trafficPct: …").
 */
export const startInput = z.custom<RolloutInput>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "a rollout plan object ({ candidate: { name, version }, stages?, gates?, … })",
);
export type StartInput = z.infer<typeof startInput>;
