import { readFile } from "node:fs/promises";

export interface Rating {
  itemId: string;
  rating: number;
  /** seconds since the epoch */
  timestamp: number;
}

/** One user's ratings split by time: the earlier part is their past, the later their "future". */
export interface ReplayUser {
  userId: string;
  /** oldest first */
  past: Rating[];
  /** oldest first; held out: the simulator never sends these until the user meets them */
  future: Rating[];
}

/** Parses MovieLens `ratings.csv` (userId,movieId,rating,timestamp); a bad line names its number. */
export function parseRatings(text: string, file = "ratings.csv"): Map<string, Rating[]> {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== "userId,movieId,rating,timestamp")
    throw new Error(`${file}:1: expected the header userId,movieId,rating,timestamp`);
  const byUser = new Map<string, Rating[]>();
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const [userId, itemId, rating, timestamp, extra] = line.split(",");
    const value = Number(rating);
    const time = Number(timestamp);
    if (!userId || !itemId || extra !== undefined || !(value >= 0.5 && value <= 5) || !(time >= 0))
      throw new Error(`${file}:${i + 1}: expected userId,movieId,rating (0.5–5),timestamp`);
    let list = byUser.get(userId);
    if (!list) byUser.set(userId, (list = []));
    list.push({ itemId, rating: value, timestamp: time });
  }
  return byUser;
}

/**
 * Splits each user's ratings by time: the latest `futureFraction` of them (rounded down, at least
 * one) are the future, the rest the past. Ties in time keep the file's order. Users with fewer
 * than `minRatings` ratings are left out (too little past to fold in, or no future).
 */
export function splitByTime(
  byUser: ReadonlyMap<string, readonly Rating[]>,
  { futureFraction = 0.2, minRatings = 10 }: { futureFraction?: number; minRatings?: number } = {},
): ReplayUser[] {
  if (!(futureFraction > 0 && futureFraction < 1))
    throw new RangeError(`futureFraction must be between 0 and 1, got ${futureFraction}`);
  const users: ReplayUser[] = [];
  for (const [userId, ratings] of byUser) {
    if (ratings.length < Math.max(2, minRatings)) continue;
    const ordered = ratings
      .map((rating, at) => ({ rating, at }))
      .sort((a, b) => a.rating.timestamp - b.rating.timestamp || a.at - b.at)
      .map(({ rating }) => rating);
    const futureCount = Math.max(1, Math.floor(ordered.length * futureFraction));
    users.push({
      userId,
      past: ordered.slice(0, ordered.length - futureCount),
      future: ordered.slice(ordered.length - futureCount),
    });
  }
  return users;
}

export async function loadReplayUsers(
  ratingsPath: string,
  options?: Parameters<typeof splitByTime>[1],
): Promise<ReplayUser[]> {
  return splitByTime(parseRatings(await readFile(ratingsPath, "utf8"), ratingsPath), options);
}
