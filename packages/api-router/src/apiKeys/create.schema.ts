import { ROLES } from "@reco/serving";
import { z } from "zod";

export const createApiKeyInput = z
  .object({ name: z.string().trim().max(100).default(""), role: z.enum(ROLES) })
  .strict();
export const revokeApiKeyInput = z
  .object({ prefix: z.string().regex(/^[0-9a-f]{12}$/, "a key prefix is 12 hex characters") })
  .strict();
