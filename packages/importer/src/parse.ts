import { parse } from "csv-parse/sync";

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Splits one CSV line (RFC 4180 quoting); MovieLens files hold no multi-line fields. */
export function splitCsvLine(text: string): Parsed<string[]> {
  if (!text.includes('"')) return { ok: true, value: text.split(",") };
  try {
    const [fields] = parse(text, { relax_column_count: true }) as string[][];
    return { ok: true, value: fields ?? [] };
  } catch (error) {
    return {
      ok: false,
      reason: `broken quoting: ${(error as Error).message.replace(/^Invalid Opening Quote: |^Quote Not Closed: /, "")}`,
    };
  }
}

export interface MovieRow {
  movieId: string;
  title: string;
  genres: string[];
  year: number | null;
}

export interface RatingRow {
  userId: string;
  movieId: string;
  rating: number;
  /** seconds since the epoch */
  timestamp: number;
}

const POSITIVE_INT = /^[1-9]\d{0,11}$/;

function columnCount(fields: string[], expected: number, names: string): Parsed<never> | null {
  return fields.length === expected
    ? null
    : {
        ok: false,
        reason: `wrong column count: expected ${expected} (${names}), got ${fields.length}`,
      };
}

export function parseMovie(text: string): Parsed<MovieRow> {
  const split = splitCsvLine(text);
  if (!split.ok) return split;
  const fields = split.value;
  const badCount = columnCount(fields, 3, "movieId,title,genres");
  if (badCount) return badCount;
  const [movieId, title, genres] = fields as [string, string, string];
  if (!POSITIVE_INT.test(movieId))
    return { ok: false, reason: `movieId: not a positive integer: ${JSON.stringify(movieId)}` };
  if (!title.trim()) return { ok: false, reason: "title: empty" };
  const year = /\((\d{4})\)\s*$/.exec(title)?.[1];
  return {
    ok: true,
    value: {
      movieId,
      title: title.trim(),
      genres: genres === "(no genres listed)" || genres === "" ? [] : genres.split("|"),
      year: year ? Number(year) : null,
    },
  };
}

/** Ratings are half stars from 0.5 to 5. */
const RATING = /^(0\.5|[1-4](\.0|\.5)?|5(\.0)?)$/;

export function parseRating(text: string, nowS = Date.now() / 1000): Parsed<RatingRow> {
  const split = splitCsvLine(text);
  if (!split.ok) return split;
  const fields = split.value;
  const badCount = columnCount(fields, 4, "userId,movieId,rating,timestamp");
  if (badCount) return badCount;
  const [userId, movieId, rating, timestamp] = fields as [string, string, string, string];
  if (!POSITIVE_INT.test(userId))
    return { ok: false, reason: `userId: not a positive integer: ${JSON.stringify(userId)}` };
  if (!POSITIVE_INT.test(movieId))
    return { ok: false, reason: `movieId: not a positive integer: ${JSON.stringify(movieId)}` };
  if (!RATING.test(rating))
    return {
      ok: false,
      reason: `rating: ${JSON.stringify(rating)} is not a half star between 0.5 and 5`,
    };
  if (!/^\d{1,11}$/.test(timestamp) || Number(timestamp) > nowS + 86_400) {
    return {
      ok: false,
      reason: `timestamp: ${JSON.stringify(timestamp)} is not epoch seconds up to now`,
    };
  }
  return {
    ok: true,
    value: { userId, movieId, rating: Number(rating), timestamp: Number(timestamp) },
  };
}
