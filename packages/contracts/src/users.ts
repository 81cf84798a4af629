import { z } from "zod";
import { MAX_ID_LENGTH } from "./events.ts";

/**
 * A user's data was deleted (DELETE /users/:userId), published on the users topic (key: the user
 * id): every api instance drops what it holds in memory about the user on receipt.
 */
export const userDeletedSchema = z.object({
  type: z.literal("user.deleted"),
  userId: z.string().min(1).max(MAX_ID_LENGTH),
  /** ISO-8601 of the deletion request. */
  requestedAt: z.string(),
});
export type UserDeleted = z.infer<typeof userDeletedSchema>;
