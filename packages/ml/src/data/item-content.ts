import { readFile } from "node:fs/promises";
import { BadInput } from "@reco/contracts";
import { parse } from "csv-parse/sync";

/** What a content model reads about one item: the catalogue fields the item API also stores. */
export interface ItemDescription {
  title?: string;
  /** categories or genres */
  categories?: readonly string[];
  tags?: readonly string[];
}

/**
 * Item metadata aligned with an id space: `features[j]` are the distinct content tokens of dense
 * item j ("category:comedy", "tag:pixar", "word:toy"); an item without metadata has none.
 */
export interface ItemContent {
  features: string[][];
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-cased, trimmed; MovieLens' "(no genres listed)" is no category. */
function normalise(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, " ");
}

/**
 * The distinct tokens of one item: each category and tag whole, and each title word of two or
 * more letters or digits (a year such as "1995" is a word). Prefixes keep a genre "comedy" apart
 * from the title word "comedy".
 */
export function contentTokens(item: ItemDescription): string[] {
  const tokens = new Set<string>();
  for (const category of item.categories ?? []) {
    const name = normalise(category);
    if (name && name !== "(no genres listed)") tokens.add(`category:${name}`);
  }
  for (const tag of item.tags ?? []) {
    const name = normalise(tag);
    if (name) tokens.add(`tag:${name}`);
  }
  for (const word of normalise(item.title ?? "").match(WORD) ?? []) {
    if (word.length >= 2) tokens.add(`word:${word}`);
  }
  return [...tokens];
}

/** Aligns descriptions by external id with the given id space (unknown ids are ignored). */
export function itemContentFor(
  itemIds: readonly string[],
  descriptions: ReadonlyMap<string, ItemDescription>,
): ItemContent {
  return {
    features: itemIds.map((id) => {
      const description = descriptions.get(id);
      return description ? contentTokens(description) : [];
    }),
  };
}

const ID_COLUMNS = ["itemid", "item_id", "movieid", "movie_id", "id"];
const LIST_SEPARATOR = /[|;]/;

/**
 * Reads a catalogue CSV with a header: an id column (itemId, movieId or id), and any of title,
 * genres or categories, tags; lists are separated by "|" or ";" (MovieLens movies.csv as is).
 */
export async function loadItemDescriptions(path: string): Promise<Map<string, ItemDescription>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new BadInput(`${path}: cannot read the item file (${(error as Error).message})`);
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, {
      columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
    }) as Record<string, string>[];
  } catch (error) {
    throw new BadInput(`${path}: malformed item file (${(error as Error).message})`);
  }
  const first = rows[0];
  if (!first) throw new BadInput(`${path}: the item file has no rows`);
  const idColumn = ID_COLUMNS.find((name) => name in first);
  if (!idColumn) {
    throw new BadInput(
      `${path}: the item file needs an id column (one of ${ID_COLUMNS.join(", ")}) in its header`,
    );
  }
  const list = (value: string | undefined): string[] =>
    value ? value.split(LIST_SEPARATOR).filter((part) => part.trim() !== "") : [];
  const descriptions = new Map<string, ItemDescription>();
  rows.forEach((row, n) => {
    const id = row[idColumn];
    if (!id) throw new BadInput(`${path}: line ${n + 2}: empty ${idColumn}`);
    descriptions.set(id, {
      title: row.title ?? "",
      categories: list(row.genres ?? row.categories),
      tags: list(row.tags),
    });
  });
  return descriptions;
}
