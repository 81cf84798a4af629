import { z } from "zod";

/** Ids as the serving API takes them (`/recommend/:userId`): 1–256 characters. */
const id = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, `${field} is required`)
    .max(256, `${field} is at most 256 characters`);

const k = z
  .number({ error: "k must be a number" })
  .int("k must be an integer")
  .min(1, "k is at least 1")
  .max(50, "k is at most 50")
  .default(10);

const version = z
  .object({ name: z.string().min(1).max(64), version: z.string().min(1).max(64) })
  .strict()
  .optional();

export const searchUsersInput = z
  .object({
    prefix: id("prefix"),
    limit: z.number().int().min(1).max(50, "limit is at most 50").default(10),
  })
  .strict();
export type SearchUsersInput = z.infer<typeof searchUsersInput>;

export const searchItemsInput = z
  .object({
    query: z
      .string()
      .trim()
      .min(1, "query is required")
      .max(200, "query is at most 200 characters"),
    limit: z.number().int().min(1).max(50, "limit is at most 50").default(10),
  })
  .strict();
export type SearchItemsInput = z.infer<typeof searchItemsInput>;

export const historyInput = z
  .object({
    userId: id("userId"),
    limit: z.number().int().min(1).max(100, "limit is at most 100").default(20),
  })
  .strict();
export type HistoryInput = z.infer<typeof historyInput>;

export const forUserInput = z.object({ userId: id("userId"), k }).strict();
export type ForUserInput = z.infer<typeof forUserInput>;

export const similarInput = z.object({ itemId: id("itemId"), k, version }).strict();
export type SimilarInput = z.infer<typeof similarInput>;

/** "Try as a new user": the picked items, oldest first. */
export const MAX_PICKS = 50;
export const foldInInput = z
  .object({
    itemIds: z
      .array(id("itemIds[]"), { error: "itemIds must be a list of item ids" })
      .max(MAX_PICKS, `itemIds holds at most ${MAX_PICKS} items`),
    k,
    version,
  })
  .strict();
export type FoldInInput = z.infer<typeof foldInInput>;
