import { MAX_ID_LENGTH, contextSchema } from "@reco/contracts";
import { z } from "zod";

/** The HTTP contract of the serving API: these schemas validate requests AND generate /openapi.json. */

export const MAX_K = 100;
export const MAX_FEEDBACK_BATCH = 1000;
export const MAX_EXCLUDE = 500;

/** Ids: 1–256 chars, no control characters (they break logs and keys). */
export const externalId = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[^\p{Cc}]+$/u, "must not contain control characters");

export const userParamsSchema = z.object({ userId: externalId }).strict();
export const itemParamsSchema = z.object({ itemId: externalId }).strict();

const kParam = z.coerce
  .number({ error: "k must be a number" })
  .int("k must be an integer")
  .min(1, "k must be at least 1")
  .max(MAX_K, `k must be at most ${MAX_K}`)
  .default(10);

export const MAX_FILTER_CATEGORIES = 20;
const MAX_CATEGORY_LENGTH = 64;

/** A comma-separated list of categories (matched case-insensitively; kept lower-cased). */
function categoryList(name: string) {
  return z
    .string()
    .max(MAX_FILTER_CATEGORIES * (MAX_CATEGORY_LENGTH + 1))
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const categories = value.split(",").map((category) => category.trim().toLowerCase());
      if (categories.length > MAX_FILTER_CATEGORIES)
        ctx.addIssue({ code: "custom", message: `at most ${MAX_FILTER_CATEGORIES} categories` });
      for (const category of categories) {
        if (category === "")
          ctx.addIssue({ code: "custom", message: `${name} holds an empty category` });
        else if (category.length > MAX_CATEGORY_LENGTH)
          ctx.addIssue({
            code: "custom",
            message: `category ${JSON.stringify(category.slice(0, 40))}…: at most ${MAX_CATEGORY_LENGTH} characters`,
          });
        else if (/\p{Cc}/u.test(category))
          ctx.addIssue({
            code: "custom",
            message: `category ${JSON.stringify(category)}: must not contain control characters`,
          });
      }
      return [...new Set(categories)];
    });
}

/** Filters shared by /recommend and /similar. */
const filterParams = {
  /** Comma-separated: only items in at least one of these categories. */
  category: categoryList("category"),
  /** Comma-separated: never items in any of these categories. */
  excludeCategory: categoryList("excludeCategory"),
};

function filterConflicts(
  query: { category?: string[]; excludeCategory?: string[] },
  ctx: z.RefinementCtx,
): void {
  for (const category of query.category ?? [])
    if (query.excludeCategory?.includes(category))
      ctx.addIssue({
        code: "custom",
        path: ["excludeCategory"],
        message: `category ${JSON.stringify(category)} is both asked for and excluded`,
      });
}

export const recommendQuerySchema = z
  .object({
    k: kParam,
    ...filterParams,
    /** Comma-separated item ids never to return. */
    exclude: z
      .string()
      .max(MAX_EXCLUDE * (MAX_ID_LENGTH + 1))
      .optional()
      .transform((value, ctx) => {
        const ids = value ? value.split(",").filter(Boolean) : [];
        if (ids.length > MAX_EXCLUDE)
          ctx.addIssue({ code: "custom", message: `at most ${MAX_EXCLUDE} excluded ids` });
        for (const id of ids) {
          const check = externalId.safeParse(id);
          if (!check.success)
            ctx.addIssue({
              code: "custom",
              message: `excluded id ${JSON.stringify(id.slice(0, 40))}: ${check.error.issues[0]!.message}`,
            });
        }
        return ids;
      }),
    device: contextSchema.shape.device,
    country: contextSchema.shape.country,
  })
  .strict()
  .superRefine(filterConflicts);
export type RecommendQuery = z.infer<typeof recommendQuerySchema>;

export const similarQuerySchema = z
  .object({ k: kParam, ...filterParams })
  .strict()
  .superRefine(filterConflicts);

export const recommendedItemSchema = z.object({
  itemId: z.string(),
  score: z.number(),
  title: z.string().optional(),
  reason: z.string(),
});

export const recommendationSchema = z.object({
  recId: z.string(),
  userId: z.string(),
  items: z.array(recommendedItemSchema),
  modelVersion: z.string(),
  /** the experiment that chose the version, when one did */
  experimentKey: z.string().optional(),
  variant: z.string().optional(),
  fallback: z.boolean(),
  fallbackReason: z.string().optional(),
  cached: z.boolean(),
});
export type Recommendation = z.infer<typeof recommendationSchema>;

export const similarItemsSchema = z.object({
  itemId: z.string(),
  items: z.array(recommendedItemSchema),
  modelVersion: z.string(),
  fallback: z.boolean(),
});

export const feedbackEventSchema = z
  .object({
    userId: externalId,
    itemId: externalId,
    type: z.enum(["watch", "rate", "click"]),
    /** rate: the rating, 0.5–5; watch: progress 0–1 (optional); click: none. */
    value: z.number().optional(),
    /** The recommendation this interaction came from, when known. */
    recId: externalId.optional(),
    /** When it happened (ISO-8601 with offset); default: now. */
    ts: z.iso.datetime({ offset: true }).optional(),
    context: contextSchema.optional(),
    /**
     * The event's id (default: a new UUID). A client that retries after a 503 with the same ids
     * has each event counted once, whatever part of the first attempt was stored.
     */
    eventId: externalId.optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (
      event.type === "rate" &&
      (event.value === undefined || event.value < 0.5 || event.value > 5)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "a rate event needs value between 0.5 and 5",
      });
    }
    if (
      event.type === "watch" &&
      event.value !== undefined &&
      (event.value < 0 || event.value > 1)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "watch progress must be between 0 and 1",
      });
    }
    if (event.type === "click" && event.value !== undefined) {
      ctx.addIssue({ code: "custom", path: ["value"], message: "a click carries no value" });
    }
  });
export type FeedbackEvent = z.infer<typeof feedbackEventSchema>;

export const feedbackBatchSchema = z
  .object({
    events: z
      .array(feedbackEventSchema)
      .min(1, "events must not be empty")
      .max(MAX_FEEDBACK_BATCH, `at most ${MAX_FEEDBACK_BATCH} events per batch`),
  })
  .strict();

export const feedbackAcceptedSchema = z.object({ accepted: z.number().int() });

export const itemSchema = z.object({
  itemId: z.string(),
  title: z.string(),
  genres: z.array(z.string()),
  year: z.number().int().nullable(),
});

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
