import { createHash } from "node:crypto";
import type { CatalogChange } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";

export interface CatalogItem {
  itemId: string;
  title: string;
  genres: string[];
  year: number | null;
  tags?: string[];
  /** false: never recommended (the default is true). */
  available?: boolean;
  /** ISO-8601 bounds of when the item may be recommended; null or absent when unbounded. */
  availableFrom?: string | null;
  availableUntil?: string | null;
  /** ISO-8601 of the soft delete: never recommended again, kept for history. */
  deletedAt?: string | null;
  /** ISO-8601 of the row's last change: a change older than what is held is ignored. */
  updatedAt?: string;
  /** ISO-8601 of the row's creation (a model trained before it cannot know it). */
  createdAt?: string;
}

/** What an answer may hold beyond availability: item categories (genres), matched case-insensitively. */
export interface ItemFilter {
  /** When non-empty, only items with at least one of these categories. */
  categories: readonly string[];
  /** Never items with any of these categories. */
  excludeCategories: readonly string[];
}

export const NO_FILTER: ItemFilter = { categories: [], excludeCategories: [] };

export function hasFilter(filter: ItemFilter | undefined): filter is ItemFilter {
  return (
    filter !== undefined && (filter.categories.length > 0 || filter.excludeCategories.length > 0)
  );
}

interface Entry {
  item: CatalogItem;
  categories: Set<string>;
  /** Never recommendable whatever the time (deleted or not available). */
  off: boolean;
  fromMs: number;
  untilMs: number;
  /** This state's share of the catalog's version (see `version`). */
  hash: number;
}

const HASH_MOD = 2 ** 48;

function entryOf(item: CatalogItem): Entry {
  const fromMs = item.availableFrom ? Date.parse(item.availableFrom) : -Infinity;
  const untilMs = item.availableUntil ? Date.parse(item.availableUntil) : Infinity;
  const state = JSON.stringify([
    item.itemId,
    item.title,
    item.genres,
    item.available ?? true,
    item.availableFrom ?? null,
    item.availableUntil ?? null,
    item.deletedAt ?? null,
  ]);
  return {
    item,
    categories: new Set(item.genres.map((genre) => genre.toLowerCase())),
    off: Boolean(item.deletedAt) || item.available === false,
    fromMs,
    untilMs,
    hash: parseInt(createHash("sha1").update(state).digest("hex").slice(0, 12), 16),
  };
}

/** An item row as the catalog holds it (dates as ISO text). */
export function catalogItemOfChange(change: CatalogChange): CatalogItem {
  const { type: _type, ...item } = change;
  return item;
}

/**
 * The item catalog held in memory: titles for answers, existence checks, and what may be
 * recommended now (available, not deleted, inside its availability window) and in which
 * categories. Loaded from the database, then kept current by catalog changes (`apply`).
 *
 * `version` names the catalog's state the same way on every instance that holds the same rows,
 * whatever order the changes came in (a sum of per-item hashes, plus the last availability bound
 * passed), so it can be part of a shared cache key: an answer cached under one version was
 * computed from that state only.
 */
export class Catalog {
  private readonly entries = new Map<string, Entry>();
  /** Items per lower-cased category, for filter checks and selectivity. */
  private readonly categoryCounts = new Map<string, number>();
  private hashSum = 0;
  /** The last `version` text and the numbers it was made from. */
  private named = { hashSum: Number.NaN, bound: Number.NaN, text: "" };
  /** Items not recommendable whatever the time. */
  private offCount = 0;
  /** Sorted availability bounds (ms) of every item that has one; rebuilt when stale. */
  private bounds: number[] | null = [];
  private boundedItems = 0;
  private changes = 0;

  private constructor(items: Iterable<CatalogItem>) {
    for (const item of items) this.put(item);
  }

  get(itemId: string): CatalogItem | undefined {
    return this.entries.get(itemId)?.item;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Changes applied since loading (for logs and tests). */
  get applied(): number {
    return this.changes;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Whether the item may be recommended at `now`. Items the catalog does not hold (a model may know
   * items imported elsewhere) may.
   */
  recommendable(itemId: string, now = Date.now()): boolean {
    const entry = this.entries.get(itemId);
    return entry === undefined || (!entry.off && entry.fromMs <= now && now < entry.untilMs);
  }

  /** recommendable and inside `filter` (an item without categories is in no category). */
  admits(itemId: string, filter: ItemFilter, now = Date.now()): boolean {
    const entry = this.entries.get(itemId);
    if (entry && (entry.off || entry.fromMs > now || now >= entry.untilMs)) return false;
    if (filter.categories.length > 0) {
      if (!entry) return false;
      let any = false;
      for (const category of filter.categories) if (entry.categories.has(category)) any = true;
      if (!any) return false;
    }
    if (entry)
      for (const category of filter.excludeCategories)
        if (entry.categories.has(category)) return false;
    return true;
  }

  /** Whether any item (recommendable or not) has this lower-cased category. */
  hasCategory(category: string): boolean {
    return (this.categoryCounts.get(category) ?? 0) > 0;
  }

  /** The filter's categories no item has (a typo, most likely): a request naming one is refused. */
  unknownCategories(filter: ItemFilter): string[] {
    return [...filter.categories, ...filter.excludeCategories].filter(
      (category) => !this.hasCategory(category),
    );
  }

  /**
   * About what share of the catalog `filter` and availability let through (0–1, never 0): how many
   * more candidates a model must be asked for so that k remain.
   */
  selectivity(filter: ItemFilter | undefined): number {
    const size = Math.max(1, this.entries.size);
    let share = 1 - (this.offCount + this.boundedItems) / size;
    if (filter) {
      if (filter.categories.length > 0) {
        let matching = 0;
        for (const category of filter.categories)
          matching += this.categoryCounts.get(category) ?? 0;
        share *= Math.min(1, matching / size);
      }
      let excluded = 0;
      for (const category of filter.excludeCategories)
        excluded += this.categoryCounts.get(category) ?? 0;
      share *= Math.max(0, 1 - excluded / size);
    }
    return Math.max(share, 1 / size);
  }

  /** The state's name (see the class comment), at `now`. */
  version(now = Date.now()): string {
    const bound = this.lastBoundPassed(now);
    // Asked on every request: the text is made again only when one of its two numbers moved.
    if (this.named.hashSum !== this.hashSum || this.named.bound !== bound)
      this.named = {
        hashSum: this.hashSum,
        bound,
        text: `${this.hashSum.toString(36)}.${bound.toString(36)}`,
      };
    return this.named.text;
  }

  /**
   * Applies one item's new state unless it is older than the one held; true when applied. Changes
   * may come more than once and out of order (the database's `updatedAt` decides).
   */
  apply(item: CatalogItem): boolean {
    const held = this.entries.get(item.itemId)?.item.updatedAt;
    if (held !== undefined && item.updatedAt !== undefined && item.updatedAt < held) return false;
    this.put(item);
    this.changes += 1;
    return true;
  }

  private put(item: CatalogItem): void {
    const previous = this.entries.get(item.itemId);
    if (previous) this.account(previous, -1);
    const entry = entryOf(item);
    this.entries.set(item.itemId, entry);
    this.account(entry, 1);
  }

  private account(entry: Entry, sign: 1 | -1): void {
    this.hashSum = (((this.hashSum + sign * entry.hash) % HASH_MOD) + HASH_MOD) % HASH_MOD;
    if (entry.off) this.offCount += sign;
    for (const category of entry.categories)
      this.categoryCounts.set(category, (this.categoryCounts.get(category) ?? 0) + sign);
    if (entry.fromMs !== -Infinity || entry.untilMs !== Infinity) {
      this.boundedItems += sign;
      this.bounds = null;
    }
  }

  /** The latest availability bound of any item at or before `now` (0 when none): time's part of the version. */
  private lastBoundPassed(now: number): number {
    if (this.boundedItems === 0) return 0;
    if (this.bounds === null) {
      const bounds: number[] = [];
      for (const entry of this.entries.values()) {
        if (entry.fromMs !== -Infinity) bounds.push(entry.fromMs);
        if (entry.untilMs !== Infinity) bounds.push(entry.untilMs);
      }
      this.bounds = bounds.sort((a, b) => a - b);
    }
    const bounds = this.bounds;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bounds[mid]! <= now) low = mid + 1;
      else high = mid;
    }
    return low === 0 ? 0 : bounds[low - 1]!;
  }

  static fromItems(items: Iterable<CatalogItem>): Catalog {
    return new Catalog(items);
  }

  static async load(prisma: PrismaClient): Promise<Catalog> {
    const rows = await prisma.item.findMany({
      select: {
        externalId: true,
        title: true,
        genres: true,
        tags: true,
        year: true,
        available: true,
        availableFrom: true,
        availableUntil: true,
        deletedAt: true,
        updatedAt: true,
        createdAt: true,
      },
      orderBy: { id: "asc" },
    });
    return Catalog.fromItems(rows.map(catalogItemOfRow));
  }
}

/** A database row as a catalog item (dates as ISO text). */
export function catalogItemOfRow(row: {
  externalId: string;
  title: string;
  genres: string[];
  tags: string[];
  year: number | null;
  available: boolean;
  availableFrom: Date | null;
  availableUntil: Date | null;
  deletedAt: Date | null;
  updatedAt: Date;
  createdAt?: Date;
}): CatalogItem {
  return {
    itemId: row.externalId,
    title: row.title,
    genres: row.genres,
    year: row.year,
    tags: row.tags,
    available: row.available,
    availableFrom: row.availableFrom?.toISOString() ?? null,
    availableUntil: row.availableUntil?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
    ...(row.createdAt ? { createdAt: row.createdAt.toISOString() } : {}),
  };
}
