import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The demo ratings and titles `npm start` imports, read straight from the CSV files: the journey's
 * expected values come from here, not from the product.
 */
export interface DemoUser {
  /** Distinct items the user rated. */
  items: Set<string>;
  /** Titles of the items rated at the user's newest timestamp (the history's first row). */
  newestTitles: Set<string>;
}

/** movieId → title, from movies.csv (titles with commas are quoted, quotes doubled). */
export function demoTitles(demoDir: string): Map<string, string> {
  const titles = new Map<string, string>();
  for (const line of readFileSync(path.join(demoDir, "movies.csv"), "utf8").split("\n").slice(1)) {
    const match = /^(\d+),("(?:[^"]|"")*"|[^,]*),/.exec(line);
    if (match) titles.set(match[1]!, match[2]!.replace(/^"|"$/g, "").replace(/""/g, '"'));
  }
  return titles;
}

/** One user's ratings from ratings.csv (userId,movieId,rating,timestamp). */
export function demoUser(demoDir: string, userId: string): DemoUser {
  const titles = demoTitles(demoDir);
  const rows = readFileSync(path.join(demoDir, "ratings.csv"), "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.split(","))
    .filter((cells) => cells[0] === userId);
  if (rows.length === 0) throw new Error(`user ${userId} has no row in ${demoDir}/ratings.csv`);
  const newest = Math.max(...rows.map((cells) => Number(cells[3])));
  return {
    items: new Set(rows.map((cells) => cells[1]!)),
    newestTitles: new Set(
      rows.filter((cells) => Number(cells[3]) === newest).map((cells) => titles.get(cells[1]!)!),
    ),
  };
}

/** A seeded demo account's password, from the file prepare-demo writes (`role email password`). */
export function demoPassword(dataDir: string, email: string): string {
  const file = path.join(dataDir, "demo-accounts.txt");
  const parts = readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((cells) => cells[1] === email);
  if (!parts?.[2]) throw new Error(`${email}: no line in ${file}`);
  return parts[2];
}
