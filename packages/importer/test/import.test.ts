import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "@reco/db";
import { querySnapshots } from "@reco/snapshots";
import { importMovieLens } from "../src/index.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "fixtures");
const repoRoot = path.resolve(here, "../../..");

describe("importMovieLens on a fixture holding every kind of bad row", () => {
  let dataDir: string;
  let db: Database;
  const snapshotsRoot = () => path.join(dataDir, "snapshots");
  const run = (
    moviesPath = path.join(fixtures, "movies.csv"),
    ratingsPath = path.join(fixtures, "ratings.csv"),
  ) =>
    importMovieLens({ prisma: db.prisma, snapshotsRoot: snapshotsRoot(), moviesPath, ratingsPath });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-import-"));
    db = await openDatabase({ dataDir });
  });
  afterAll(async () => {
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("reports each bad row with its file and line number and stores the good rows", async () => {
    const report = await run();
    const problems = report.problems.map(
      (problem) => `${problem.file}:${problem.line} ${problem.reason}`,
    );
    expect(problems).toEqual([
      "movies.csv:4 wrong column count: expected 3 (movieId,title,genres), got 2",
      'movies.csv:5 movieId: not a positive integer: "abc"',
      expect.stringMatching(/^movies\.csv:6 broken quoting: /),
      "movies.csv:7 duplicate movieId 2 (first at line 3)",
      "movies.csv:8 title: empty",
      "ratings.csv:4 wrong column count: expected 4 (userId,movieId,rating,timestamp), got 2",
      'ratings.csv:5 userId: not a positive integer: "x1"',
      'ratings.csv:6 rating: "5.5" is not a half star between 0.5 and 5',
      'ratings.csv:7 rating: "0" is not a half star between 0.5 and 5',
      'ratings.csv:8 rating: "good" is not a half star between 0.5 and 5',
      'ratings.csv:9 timestamp: "-5" is not epoch seconds up to now',
      'ratings.csv:10 timestamp: "yesterday" is not epoch seconds up to now',
      'ratings.csv:11 timestamp: "99999999999" is not epoch seconds up to now',
      "ratings.csv:12 duplicate rating of movie 1 by user 1 (first at line 2)",
      "ratings.csv:13 movieId: 999 is not in the catalog",
      expect.stringMatching(/^ratings\.csv:14 broken quoting: /),
    ]);
    expect(report.movies).toMatchObject({ rows: 8, stored: 3, skipped: 5 });
    expect(report.ratings).toMatchObject({ rows: 14, stored: 3, skipped: 11 });
    expect(report.newUsers).toBe(2);

    const items = await db.prisma.item.findMany({ orderBy: { externalId: "asc" } });
    expect(items.map((item) => [item.externalId, item.title, item.genres, item.year])).toEqual([
      ["1", "Toy Story (1995)", ["Adventure", "Animation", "Children", "Comedy", "Fantasy"], 1995],
      ["2", "American President, The (1995)", ["Comedy", "Drama", "Romance"], 1995],
      ["6", "Scorpio Rising (1964)", [], 1964],
    ]);
    const ratings = await querySnapshots<{
      user_id: string;
      item_id: string;
      value: number;
      event_time: unknown;
    }>(
      snapshotsRoot(),
      "SELECT user_id, item_id, value, epoch(event_time)::BIGINT AS event_time FROM {source} ORDER BY user_id, item_id",
    );
    expect(
      ratings.map((row) => [row.user_id, row.item_id, row.value, Number(row.event_time)]),
    ).toEqual([
      ["1", "1", 4, 1260759144],
      ["1", "2", 3.5, 1260759179],
      ["4", "6", 0.5, 1260759145],
    ]);
  });

  it("adds nothing when run a second time", async () => {
    const report = await run();
    expect(report.movies).toMatchObject({ stored: 0, alreadyStored: 3 });
    expect(report.ratings).toMatchObject({ stored: 0, alreadyStored: 3 });
    expect(report.newUsers).toBe(0);
    const [count] = await querySnapshots<{ n: bigint }>(
      snapshotsRoot(),
      "SELECT count(*) AS n FROM {source}",
    );
    expect(Number(count!.n)).toBe(3);
    expect(await db.prisma.item.count()).toBe(3);
  });

  it("stores only the new rows of a grown file and never rewrites stored ones", async () => {
    const grown = path.join(dataDir, "ratings-grown.csv");
    await writeFile(
      grown,
      "userId,movieId,rating,timestamp\n1,1,4.0,1260759144\n5,2,2.5,1260760000\n",
    );
    const report = await run(path.join(fixtures, "movies.csv"), grown);
    expect(report.ratings).toMatchObject({ rows: 2, stored: 1, alreadyStored: 1, skipped: 0 });
    const rows = await querySnapshots<{ n: bigint; ids: bigint }>(
      snapshotsRoot(),
      "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM {source}",
    );
    expect([Number(rows[0]!.n), Number(rows[0]!.ids)]).toEqual([4, 4]);
  });

  it("refuses a file whose header is wrong, naming the file and line 1, before storing anything", async () => {
    const bad = path.join(dataDir, "bad-header.csv");
    await writeFile(bad, "user,item,stars\n1,2,3\n");
    await expect(run(path.join(fixtures, "movies.csv"), bad)).rejects.toThrow(
      /bad-header\.csv:1: expected the header/,
    );
    await expect(run(path.join(dataDir, "missing.csv"))).rejects.toThrow(
      /missing\.csv: file not found/,
    );
  });
});

describe("npm run import (CLI)", () => {
  it("exits 1 with one clear line when a file is missing", () => {
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "packages/importer/src/cli/import.ts",
        "--movies",
        "/nonexistent/movies.csv",
      ],
      {
        cwd: repoRoot,
        encoding: "utf8",
        env: {
          ...process.env,
          DATA_DIR: path.join(os.tmpdir(), `reco-cli-${process.pid}`),
          DATABASE_URL: "",
        },
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "import failed: /nonexistent/movies.csv: file not found or unreadable",
    );
  });

  it("rejects an unknown option with the usage text", () => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "packages/importer/src/cli/import.ts", "--bogus"],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--bogus'[\s\S]*Usage: npm run import/);
  });
});
