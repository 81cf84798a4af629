import { access } from "node:fs/promises";
import path from "node:path";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import {
  coveredOffset,
  querySnapshots,
  toSnapshotRow,
  writeSnapshot,
  type SnapshotRow,
} from "@reco/snapshots";
import { readLines } from "./lines.ts";
import { parseMovie, parseRating, type MovieRow } from "./parse.ts";

/** Imported ratings live in their own snapshot topic so their offsets never clash with the live bus. */
export const IMPORT_TOPIC = "reco.import.rate";
const ROWS_PER_FILE = 50_000;
const DB_CHUNK = 5_000;

export interface RowProblem {
  file: string;
  line: number;
  reason: string;
}

export interface FileReport {
  file: string;
  rows: number;
  stored: number;
  alreadyStored: number;
  skipped: number;
}

export interface ImportReport {
  movies: FileReport;
  ratings: FileReport;
  newUsers: number;
  problems: RowProblem[];
  seconds: number;
}

export interface ImportOptions {
  prisma: PrismaClient;
  snapshotsRoot: string;
  moviesPath: string;
  ratingsPath: string;
  /** called as each file is read: (file, bytesRead, totalBytes) */
  onProgress?: (file: string, bytesRead: number, totalBytes: number) => void;
}

export class ImportError extends Error {
  override name = "ImportError";
}

function checkHeader(file: string, text: string, expected: string): void {
  if (text.replace(/^\uFEFF/, "").trim() !== expected) {
    throw new ImportError(
      `${file}:1: expected the header ${JSON.stringify(expected)}, found ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
}

async function mustExist(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new ImportError(`${file}: file not found or unreadable`);
  }
}

async function insertMovies(prisma: PrismaClient, movies: MovieRow[]): Promise<number> {
  let stored = 0;
  for (let start = 0; start < movies.length; start += DB_CHUNK) {
    const chunk = movies.slice(start, start + DB_CHUNK);
    // One statement per chunk: bulk inserts through unnest, never row-by-row.
    stored += await prisma.$executeRawUnsafe(
      `INSERT INTO items (external_id, title, genres, tags, year, updated_at)
       SELECT id, title, CASE WHEN genres = '' THEN '{}'::text[] ELSE string_to_array(genres, '|') END, '{}'::text[], year, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS t(id, title, genres, year)
       ON CONFLICT (external_id) DO NOTHING`,
      chunk.map((movie) => movie.movieId),
      chunk.map((movie) => movie.title),
      chunk.map((movie) => movie.genres.join("|")),
      chunk.map((movie) => movie.year),
    );
  }
  return stored;
}

async function insertUsers(prisma: PrismaClient, userIds: string[]): Promise<number> {
  let stored = 0;
  for (let start = 0; start < userIds.length; start += DB_CHUNK) {
    stored += await prisma.$executeRawUnsafe(
      `INSERT INTO users (external_id) SELECT unnest($1::text[]) ON CONFLICT (external_id) DO NOTHING`,
      userIds.slice(start, start + DB_CHUNK),
    );
  }
  return stored;
}

export function ratingEventId(userId: string, movieId: string, timestamp: number): string {
  return `ml:${userId}:${movieId}:${timestamp}`;
}

/**
 * Imports a MovieLens catalog and its ratings. Bad rows are skipped and reported with file and line;
 * rows already stored (by item id, or by the rating's deterministic event id) are not stored again,
 * so running it twice adds nothing.
 */
export async function importMovieLens(options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const { prisma, snapshotsRoot } = options;
  await mustExist(options.moviesPath);
  await mustExist(options.ratingsPath);
  const moviesFile = path.basename(options.moviesPath);
  const ratingsFile = path.basename(options.ratingsPath);
  const problems: RowProblem[] = [];

  // Catalog
  const movies: MovieRow[] = [];
  const movieLines = new Map<string, number>();
  let movieRows = 0;
  for await (const line of readLines(options.moviesPath, (read, total) =>
    options.onProgress?.(moviesFile, read, total),
  )) {
    if (line.number === 1) {
      checkHeader(moviesFile, line.text, "movieId,title,genres");
      continue;
    }
    if (!line.text.trim()) continue;
    movieRows += 1;
    const parsed = parseMovie(line.text);
    if (!parsed.ok) {
      problems.push({ file: moviesFile, line: line.number, reason: parsed.reason });
      continue;
    }
    const firstLine = movieLines.get(parsed.value.movieId);
    if (firstLine !== undefined) {
      problems.push({
        file: moviesFile,
        line: line.number,
        reason: `duplicate movieId ${parsed.value.movieId} (first at line ${firstLine})`,
      });
      continue;
    }
    movieLines.set(parsed.value.movieId, line.number);
    movies.push(parsed.value);
  }
  const moviesStored = await insertMovies(prisma, movies);

  // Ratings → rate events in the snapshot store
  const known = new Set(
    (
      await querySnapshots<{ event_id: string }>(snapshotsRoot, "SELECT event_id FROM {source}", [
        IMPORT_TOPIC,
      ])
    ).map((row) => row.event_id),
  );
  const catalog = new Set(
    (await prisma.item.findMany({ select: { externalId: true } })).map((item) => item.externalId),
  );
  const pairLines = new Map<string, number>();
  const users = new Set<string>();
  let nextOffset = (await coveredOffset(snapshotsRoot, IMPORT_TOPIC, 0)) + 1n;
  let pending: SnapshotRow[] = [];
  let ratingRows = 0;
  let ratingsStored = 0;
  let alreadyStored = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const firstOffset = nextOffset;
    const lastOffset = firstOffset + BigInt(pending.length - 1);
    pending.forEach((row, index) => (row.offset = firstOffset + BigInt(index)));
    await writeSnapshot(
      snapshotsRoot,
      { topic: IMPORT_TOPIC, partition: 0, firstOffset, lastOffset },
      pending,
    );
    ratingsStored += pending.length;
    nextOffset = lastOffset + 1n;
    pending = [];
  };
  const nowS = Date.now() / 1000;
  for await (const line of readLines(options.ratingsPath, (read, total) =>
    options.onProgress?.(ratingsFile, read, total),
  )) {
    if (line.number === 1) {
      checkHeader(ratingsFile, line.text, "userId,movieId,rating,timestamp");
      continue;
    }
    if (!line.text.trim()) continue;
    ratingRows += 1;
    const parsed = parseRating(line.text, nowS);
    if (!parsed.ok) {
      problems.push({ file: ratingsFile, line: line.number, reason: parsed.reason });
      continue;
    }
    const { userId, movieId, rating, timestamp } = parsed.value;
    const pair = `${userId}:${movieId}`;
    const firstLine = pairLines.get(pair);
    if (firstLine !== undefined) {
      problems.push({
        file: ratingsFile,
        line: line.number,
        reason: `duplicate rating of movie ${movieId} by user ${userId} (first at line ${firstLine})`,
      });
      continue;
    }
    pairLines.set(pair, line.number);
    if (!catalog.has(movieId)) {
      problems.push({
        file: ratingsFile,
        line: line.number,
        reason: `movieId: ${movieId} is not in the catalog`,
      });
      continue;
    }
    users.add(userId);
    const eventId = ratingEventId(userId, movieId, timestamp);
    if (known.has(eventId)) {
      alreadyStored += 1;
      continue;
    }
    const event: RateEvent = {
      schemaVersion: SCHEMA_VERSION,
      eventId,
      eventTime: new Date(timestamp * 1000).toISOString(),
      userId,
      type: "rate",
      itemId: movieId,
      rating,
    };
    pending.push(toSnapshotRow(event, { partition: 0, offset: 0 }));
    if (pending.length >= ROWS_PER_FILE) await flush();
  }
  await flush();
  const newUsers = await insertUsers(prisma, [...users]);

  return {
    movies: {
      file: moviesFile,
      rows: movieRows,
      stored: moviesStored,
      alreadyStored: movies.length - moviesStored,
      skipped: movieRows - movies.length,
    },
    ratings: {
      file: ratingsFile,
      rows: ratingRows,
      stored: ratingsStored,
      alreadyStored,
      skipped: problems.filter((problem) => problem.file === ratingsFile).length,
    },
    newUsers,
    problems,
    seconds: (performance.now() - started) / 1000,
  };
}
