import type { EventBus } from "@reco/bus";
import {
  BadInput,
  NotFound,
  Unavailable,
  describeZodError,
  type CatalogChange,
  type TopicNames,
} from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import { z } from "zod";
import { catalogItemOfChange, catalogItemOfRow, type CatalogItem } from "./catalog.ts";
import { externalId } from "./schemas.ts";

/** The HTTP contract of the item API (PUT/PATCH/DELETE /items/:itemId, POST /items/bulk). */

export const MAX_BULK_ITEMS = 1000;
export const MAX_CATEGORIES = 50;
export const MAX_TAGS = 100;
export const MAX_LABEL_LENGTH = 64;
export const MAX_TITLE_LENGTH = 1000;
/** A metadata object's JSON, at most this many bytes. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** A category or tag: 1–64 characters, no control characters, no commas (filters list them with commas). */
export const label = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(MAX_LABEL_LENGTH, `at most ${MAX_LABEL_LENGTH} characters`)
  .regex(/^[^\p{Cc},]+$/u, "must not contain commas or control characters");

const instant = z.iso.datetime({
  offset: true,
  error: "must be an ISO-8601 date-time with an offset, e.g. 2026-12-24T00:00:00Z",
});

const metadata = z
  .record(z.string(), z.unknown(), { error: "must be an object" })
  .refine(
    (value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES,
    `at most ${MAX_METADATA_BYTES} bytes of JSON`,
  );

const itemFields = {
  title: z.string().trim().min(1, "must not be empty").max(MAX_TITLE_LENGTH),
  /** The item's categories (stored as genres); `genres` is accepted as another name for it. */
  categories: z.array(label).max(MAX_CATEGORIES, `at most ${MAX_CATEGORIES} categories`),
  genres: z.array(label).max(MAX_CATEGORIES, `at most ${MAX_CATEGORIES} genres`),
  tags: z.array(label).max(MAX_TAGS, `at most ${MAX_TAGS} tags`),
  metadata,
  year: z.number().int().min(0).max(9999).nullable(),
  available: z.boolean(),
  availableFrom: instant.nullable(),
  availableUntil: instant.nullable(),
};

type Fields = {
  [K in keyof typeof itemFields]?: z.infer<(typeof itemFields)[K]>;
};

function checkFields(fields: Fields, ctx: z.RefinementCtx): void {
  if (fields.categories !== undefined && fields.genres !== undefined)
    ctx.addIssue({
      code: "custom",
      path: ["genres"],
      message: "give categories or genres (the same field), not both",
    });
  if (
    fields.availableFrom &&
    fields.availableUntil &&
    Date.parse(fields.availableFrom) >= Date.parse(fields.availableUntil)
  )
    ctx.addIssue({
      code: "custom",
      path: ["availableUntil"],
      message: "must be later than availableFrom",
    });
}

const putShape = {
  ...itemFields,
  categories: itemFields.categories.optional(),
  genres: itemFields.genres.optional(),
  tags: itemFields.tags.optional(),
  metadata: itemFields.metadata.optional(),
  year: itemFields.year.optional(),
  available: itemFields.available.optional(),
  availableFrom: itemFields.availableFrom.optional(),
  availableUntil: itemFields.availableUntil.optional(),
};

/** PUT /items/:itemId: the whole item (what is left out takes its default). */
export const itemPutSchema = z.object(putShape).strict().superRefine(checkFields);
export type ItemPut = z.infer<typeof itemPutSchema>;

/** PATCH /items/:itemId: only the fields given change (null clears a bound or the year). */
export const itemPatchSchema = z
  .object({ ...putShape, title: itemFields.title.optional() })
  .strict()
  .superRefine((fields, ctx) => {
    if (Object.keys(fields).length === 0)
      ctx.addIssue({ code: "custom", message: "nothing to change: give at least one field" });
    checkFields(fields, ctx);
  });
export type ItemPatch = z.infer<typeof itemPatchSchema>;

/** One row of POST /items/bulk: a PUT body with its item id. */
export const bulkRowSchema = z
  .object({ itemId: externalId, ...putShape })
  .strict()
  .superRefine(checkFields);

export const itemBulkSchema = z
  .object({
    items: z
      .array(z.unknown())
      .min(1, "items must not be empty")
      .max(MAX_BULK_ITEMS, `at most ${MAX_BULK_ITEMS} items per request`),
  })
  .strict();

/** The answer to a write: the item as stored. */
export const storedItemSchema = z.object({
  itemId: z.string(),
  title: z.string(),
  genres: z.array(z.string()),
  tags: z.array(z.string()),
  year: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  available: z.boolean(),
  availableFrom: z.string().nullable(),
  availableUntil: z.string().nullable(),
  deletedAt: z.string().nullable(),
  updatedAt: z.string(),
  createdAt: z.string(),
});
export type StoredItem = z.infer<typeof storedItemSchema>;

export const bulkResultSchema = z.object({ upserted: z.number().int() });

/** A bulk row that failed validation: its index in `items`, the field, and why. */
export interface BadRow {
  index: number;
  itemId?: string;
  field: string;
  message: string;
}

/**
 * Validates a bulk body: every row is checked, and any bad row refuses the whole request (400 with
 * each bad row's index and field); none is applied.
 */
export function parseBulkBody(body: unknown): (ItemPut & { itemId: string })[] {
  const outer = itemBulkSchema.safeParse(body ?? {});
  if (!outer.success)
    throw new BadInput(`invalid body: ${describeZodError(outer.error)}`, {
      issues: outer.error.issues.map((issue) => ({
        in: "body",
        path: issue.path.join("."),
        message: issue.message,
      })),
    });
  const rows: (ItemPut & { itemId: string })[] = [];
  const bad: BadRow[] = [];
  const seen = new Map<string, number>();
  outer.data.items.forEach((row, index) => {
    const parsed = bulkRowSchema.safeParse(row);
    if (!parsed.success) {
      const itemId = (row as { itemId?: unknown } | null)?.itemId;
      for (const issue of parsed.error.issues)
        bad.push({
          index,
          ...(typeof itemId === "string" ? { itemId: itemId.slice(0, 64) } : {}),
          // An unknown field is named as the field itself, not as the row that holds it.
          field:
            [...issue.path, ...(issue.code === "unrecognized_keys" ? issue.keys : [])].join(".") ||
            "(row)",
          message: issue.message,
        });
      return;
    }
    const first = seen.get(parsed.data.itemId);
    if (first !== undefined)
      bad.push({
        index,
        itemId: parsed.data.itemId.slice(0, 64),
        field: "itemId",
        message: `the same item as row ${first}`,
      });
    seen.set(parsed.data.itemId, index);
    rows.push(parsed.data);
  });
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((row) => `row ${row.index} ${row.field}: ${row.message}`)
      .join("; ");
    throw new BadInput(
      `invalid items: ${bad.length} problem(s) in ${new Set(bad.map((b) => b.index)).size} row(s), none applied (${shown}${bad.length > 5 ? "; …" : ""})`,
      { rows: bad },
    );
  }
  return rows;
}

interface ItemRow {
  externalId: string;
  title: string;
  genres: string[];
  tags: string[];
  year: number | null;
  metadata: unknown;
  available: boolean;
  availableFrom: Date | null;
  availableUntil: Date | null;
  deletedAt: Date | null;
  updatedAt: Date;
  createdAt: Date;
}

function storedItem(row: ItemRow): StoredItem {
  const item = catalogItemOfRow(row);
  return {
    itemId: item.itemId,
    title: item.title,
    genres: item.genres,
    tags: row.tags,
    year: item.year,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    available: row.available,
    availableFrom: item.availableFrom ?? null,
    availableUntil: item.availableUntil ?? null,
    deletedAt: item.deletedAt ?? null,
    updatedAt: item.updatedAt!,
    createdAt: row.createdAt.toISOString(),
  };
}

export function catalogChangeOf(item: StoredItem): CatalogChange {
  return {
    type: "catalog.item",
    itemId: item.itemId,
    title: item.title,
    genres: item.genres,
    tags: item.tags,
    year: item.year,
    available: item.available,
    availableFrom: item.availableFrom,
    availableUntil: item.availableUntil,
    deletedAt: item.deletedAt,
    updatedAt: item.updatedAt,
    createdAt: item.createdAt,
  };
}

const date = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

/** A PUT body as the row's columns (every column: a PUT replaces the item and undeletes it). */
function putColumns(body: ItemPut) {
  return {
    title: body.title,
    genres: body.categories ?? body.genres ?? [],
    tags: body.tags ?? [],
    year: body.year ?? null,
    metadata: (body.metadata ?? {}) as object,
    available: body.available ?? true,
    availableFrom: date(body.availableFrom) ?? null,
    availableUntil: date(body.availableUntil) ?? null,
    deletedAt: null,
  };
}

export interface ItemServiceDeps {
  prisma: PrismaClient;
  bus: EventBus;
  topics: TopicNames;
  /** This instance's catalog (getter: it is swapped on reload); a write applies to it at once. */
  applyLocally: (items: CatalogItem[]) => void;
}

/**
 * Item writes: the database first (the source of truth), then this instance's catalog at once,
 * then one change per item on the catalog topic for every other instance. A write whose change
 * could not be published is stored and applied here; the caller gets a 503 and may retry (writes
 * are idempotent), and other instances pick the row up at their next catalog reload anyway.
 */
export class ItemService {
  constructor(private readonly deps: ItemServiceDeps) {}

  async put(itemId: string, body: ItemPut): Promise<StoredItem> {
    const columns = putColumns(body);
    const row = await this.deps.prisma.item.upsert({
      where: { externalId: itemId },
      create: { externalId: itemId, ...columns },
      update: columns,
    });
    const [stored] = await this.announce([storedItem(row)]);
    return stored!;
  }

  async patch(itemId: string, body: ItemPatch): Promise<StoredItem> {
    const existing = await this.deps.prisma.item.findUnique({ where: { externalId: itemId } });
    if (!existing || existing.deletedAt) throw new NotFound("item", itemId);
    const from =
      body.availableFrom === undefined ? existing.availableFrom : date(body.availableFrom);
    const until =
      body.availableUntil === undefined ? existing.availableUntil : date(body.availableUntil);
    if (from && until && from.getTime() >= until.getTime())
      throw new BadInput("invalid body: availableUntil: must be later than availableFrom", {
        issues: [
          { in: "body", path: "availableUntil", message: "must be later than availableFrom" },
        ],
      });
    const genres = body.categories ?? body.genres;
    const row = await this.deps.prisma.item.update({
      where: { externalId: itemId },
      data: {
        ...(body.title === undefined ? {} : { title: body.title }),
        ...(genres === undefined ? {} : { genres }),
        ...(body.tags === undefined ? {} : { tags: body.tags }),
        ...(body.year === undefined ? {} : { year: body.year }),
        ...(body.metadata === undefined ? {} : { metadata: body.metadata as object }),
        ...(body.available === undefined ? {} : { available: body.available }),
        ...(body.availableFrom === undefined ? {} : { availableFrom: from }),
        ...(body.availableUntil === undefined ? {} : { availableUntil: until }),
      },
    });
    const [stored] = await this.announce([storedItem(row)]);
    return stored!;
  }

  /** Soft delete: the row stays (history, exports); it is never recommended again. Idempotent. */
  async delete(itemId: string): Promise<StoredItem> {
    const existing = await this.deps.prisma.item.findUnique({ where: { externalId: itemId } });
    if (!existing) throw new NotFound("item", itemId);
    const row = existing.deletedAt
      ? existing
      : await this.deps.prisma.item.update({
          where: { externalId: itemId },
          data: { deletedAt: new Date() },
        });
    const [stored] = await this.announce([storedItem(row)]);
    return stored!;
  }

  /** All rows or none: one transaction. */
  async bulk(rows: readonly (ItemPut & { itemId: string })[]): Promise<{ upserted: number }> {
    const written = await this.deps.prisma.$transaction(
      rows.map((row) => {
        const columns = putColumns(row);
        return this.deps.prisma.item.upsert({
          where: { externalId: row.itemId },
          create: { externalId: row.itemId, ...columns },
          update: columns,
        });
      }),
    );
    await this.announce(written.map(storedItem));
    return { upserted: written.length };
  }

  private async announce(items: StoredItem[]): Promise<StoredItem[]> {
    const changes = items.map(catalogChangeOf);
    this.deps.applyLocally(changes.map(catalogItemOfChange));
    try {
      await this.deps.bus.publishBatch(
        this.deps.topics.catalog,
        changes.map((change) => ({ key: change.itemId, value: change })),
      );
    } catch (error) {
      throw new Unavailable(
        `the item change is stored but could not be announced to other instances (${(error as Error).message}); retry the request`,
        2,
      );
    }
    return items;
  }
}
