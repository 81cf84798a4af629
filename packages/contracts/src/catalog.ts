import { z } from "zod";
import { MAX_ID_LENGTH } from "./events.ts";

/**
 * One item's state after a change, as published on the catalog topic (key: the item id). The
 * database holds the same row; an instance applies a change only when its `updatedAt` is not older
 * than what it holds, so redelivered or reordered changes do no harm.
 */
export const catalogChangeSchema = z.object({
  type: z.literal("catalog.item"),
  itemId: z.string().min(1).max(MAX_ID_LENGTH),
  title: z.string(),
  genres: z.array(z.string()),
  tags: z.array(z.string()),
  year: z.number().int().nullable(),
  available: z.boolean(),
  /** ISO-8601; null when unbounded. */
  availableFrom: z.string().nullable(),
  availableUntil: z.string().nullable(),
  /** ISO-8601 of the soft delete; null while the item exists. */
  deletedAt: z.string().nullable(),
  /** ISO-8601 of the row's last change (the database's `updated_at`). */
  updatedAt: z.string(),
  /** ISO-8601 of the row's creation: which served model versions were trained after the item. */
  createdAt: z.string().optional(),
});
export type CatalogChange = z.infer<typeof catalogChangeSchema>;
