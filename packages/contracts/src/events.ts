import { z } from "zod";

/** Bumped when an event's shape changes incompatibly; consumers reject versions they do not know. */
export const SCHEMA_VERSION = 1 as const;

export const MAX_ID_LENGTH = 256;

const id = z.string().min(1).max(MAX_ID_LENGTH);

/** Where a request or an event came from; used for per-context popularity. */
export const contextSchema = z
  .object({
    device: z.string().max(64).optional(),
    country: z.string().max(8).optional(),
  })
  .strict();
export type RequestContext = z.infer<typeof contextSchema>;

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  eventId: id,
  /** ISO-8601 time the event happened at the source. */
  eventTime: z.iso.datetime({ offset: true }),
  userId: id,
};

export const watchEventSchema = z
  .object({
    ...envelope,
    type: z.literal("watch"),
    itemId: id,
    /** Fraction of the item consumed, 0..1, when known. */
    progress: z.number().min(0).max(1).optional(),
    recId: id.optional(),
    context: contextSchema.optional(),
  })
  .strict();

export const rateEventSchema = z
  .object({
    ...envelope,
    type: z.literal("rate"),
    itemId: id,
    rating: z.number().min(0.5).max(5),
    recId: id.optional(),
    context: contextSchema.optional(),
  })
  .strict();

export const clickEventSchema = z
  .object({
    ...envelope,
    type: z.literal("click"),
    itemId: id,
    recId: id.optional(),
    context: contextSchema.optional(),
  })
  .strict();

export const interactionEventSchema = z.discriminatedUnion("type", [
  watchEventSchema,
  rateEventSchema,
  clickEventSchema,
]);

export const recommendationRequestSchema = z
  .object({
    ...envelope,
    type: z.literal("reco.request"),
    recId: id,
    k: z.number().int().min(1).max(1000),
    context: contextSchema.optional(),
  })
  .strict();

export const recommendationResponseSchema = z
  .object({
    ...envelope,
    type: z.literal("reco.response"),
    recId: id,
    itemIds: z.array(id).max(1000),
    modelVersion: z.string().max(MAX_ID_LENGTH),
    experimentKey: z.string().max(MAX_ID_LENGTH).optional(),
    variant: z.string().max(MAX_ID_LENGTH).optional(),
    latencyMs: z.number().min(0),
    cacheHit: z.boolean(),
    fallback: z.boolean(),
    fallbackReason: z.string().max(128).optional(),
    status: z.number().int().min(100).max(599),
  })
  .strict();

export type WatchEvent = z.infer<typeof watchEventSchema>;
export type RateEvent = z.infer<typeof rateEventSchema>;
export type ClickEvent = z.infer<typeof clickEventSchema>;
export type InteractionEvent = z.infer<typeof interactionEventSchema>;
export type RecommendationRequest = z.infer<typeof recommendationRequestSchema>;
export type RecommendationResponse = z.infer<typeof recommendationResponseSchema>;
export type RecoEvent = InteractionEvent | RecommendationRequest | RecommendationResponse;

export const recoEventSchema = z.discriminatedUnion("type", [
  watchEventSchema,
  rateEventSchema,
  clickEventSchema,
  recommendationRequestSchema,
  recommendationResponseSchema,
]);
