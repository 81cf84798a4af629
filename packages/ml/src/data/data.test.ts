import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BadInput } from "@reco/contracts";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDelimited } from "./delimited.ts";
import { loadExplicitSplit } from "./explicit.ts";
import { buildInteractions } from "./interactions.ts";
import { leaveLastN, randomHoldout, temporalSplit } from "./split.ts";

let dir: string;
const file = async (name: string, text: string): Promise<string> => {
  const target = path.join(dir, name);
  await writeFile(target, text);
  return target;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ml-data-"));
});

describe("loadDelimited", () => {
  it("detects comma, tab and space delimiters and an optional header", async () => {
    const comma = await loadDelimited(await file("a.csv", "userId,itemId,rating,timestamp\nu1,i1,4,100\nu2,i1,3,200\n"));
    expect(comma.report).toMatchObject({ delimiter: ",", header: true, rows: 2, malformed: 0 });
    const tab = await loadDelimited(await file("b.tsv", "u1\ti1\t5\nu1\ti2\t2\n"));
    expect(tab.report).toMatchObject({ delimiter: "\t", header: false, rows: 2 });
    const space = await loadDelimited(await file("c.txt", "u1  i1\nu2 i3\n\n"));
    expect(space.report).toMatchObject({ delimiter: " ", header: false, rows: 2 });
    expect(space.log.ids).toEqual({ users: ["u1", "u2"], items: ["i1", "i3"] });
    expect(Number.isNaN(space.log.rating[0]!)).toBe(true);
    expect(Array.from(comma.log.time)).toEqual([100, 200]);
    const bom = await loadDelimited(await file("bom.csv", "\uFEFFuser,item\r\nu1,i1\r\n"));
    expect(bom.report).toMatchObject({ header: true, rows: 1 });
    expect(bom.log.ids).toEqual({ users: ["u1"], items: ["i1"] });
  });

  it("reports malformed rows with their line numbers, skips and counts them", async () => {
    const source = await file("bad.csv", "user,item,rating\nu1,i1,4\nu2\nu3,i2,five\nu4,,3\nu5,i5,4,notatime\nu6,i6,1\n");
    const { log, report } = await loadDelimited(source);
    expect(report.rows).toBe(2);
    expect(report.malformed).toBe(4);
    expect(report.problems.map((problem) => problem.line)).toEqual([3, 4, 5, 6]);
    expect(report.problems[1]!.message).toContain('rating "five"');
    expect(log.length).toBe(2);
  });

  it("refuses a missing file and a file without valid rows with a clear error", async () => {
    await expect(loadDelimited(path.join(dir, "nope.csv"))).rejects.toThrow(/cannot read interactions file .*nope\.csv: ENOENT/);
    const empty = await file("empty.csv", "userId,itemId\n\n");
    await expect(loadDelimited(empty)).rejects.toBeInstanceOf(BadInput);
  });
});

describe("buildInteractions", () => {
  it("applies the rating threshold, merges duplicates and builds both CSR orientations", async () => {
    const { log } = await loadDelimited(await file("d.csv", "u1,a,5\nu1,b,2\nu1,a,3\nu2,b,4\nu2,c,4\n"));
    const all = buildInteractions(log, { confidence: "count" });
    expect(Array.from(all.userItems.indptr)).toEqual([0, 2, 4]);
    expect(Array.from(all.userItems.values)).toEqual([2, 1, 1, 1]);
    const positives = buildInteractions(log, { threshold: 4, confidence: "rating" });
    expect(Array.from(positives.userItems.indices)).toEqual([0, 1, 2]);
    expect(Array.from(positives.userItems.values)).toEqual([5, 4, 4]);
    expect(Array.from(positives.itemUsers.indptr)).toEqual([0, 1, 2, 3]);
    expect(Array.from(positives.itemUsers.indices)).toEqual([0, 1, 1]);
    expect(positives.log.length).toBe(3);
  });
});

describe("splits", () => {
  const lines: string[] = [];
  for (let u = 0; u < 50; u++) for (let i = 0; i < 10 + (u % 7); i++) lines.push(`u${u},i${(u * 3 + i * 7) % 60},4,${u * 100 + i}`);

  it("random per-user holdout is reproducible from the seed and keeps each pair on one side", async () => {
    const { log } = await loadDelimited(await file("s.csv", lines.join("\n")));
    const a = randomHoldout(log, { testFraction: 0.2, seed: 7 });
    const b = randomHoldout(log, { testFraction: 0.2, seed: 7 });
    const c = randomHoldout(log, { testFraction: 0.2, seed: 8 });
    expect(Array.from(a.test.item)).toEqual(Array.from(b.test.item));
    expect(Array.from(a.test.item)).not.toEqual(Array.from(c.test.item));
    expect(a.train.length + a.test.length).toBe(log.length);
    const trainPairs = new Set(Array.from(a.train.user, (u, k) => `${u}:${a.train.item[k]}`));
    for (let k = 0; k < a.test.length; k++) expect(trainPairs.has(`${a.test.user[k]}:${a.test.item[k]}`)).toBe(false);
    const perUser = new Map<number, number>();
    for (const u of a.test.user) perUser.set(u, (perUser.get(u) ?? 0) + 1);
    expect(perUser.get(0)).toBe(2); // 10 items × 0.2
    expect(perUser.get(6)).toBe(3); // 16 items × 0.2 rounded
  });

  it("temporal splits cut by global time or leave each user's last n items out", async () => {
    const { log } = await loadDelimited(await file("t.csv", lines.join("\n")));
    const cut = temporalSplit(log, { cutoff: 2500 });
    expect(Math.max(...cut.train.time)).toBeLessThan(2500);
    expect(Math.min(...cut.test.time)).toBeGreaterThanOrEqual(2500);
    const last = leaveLastN(log, { n: 2 });
    expect(last.test.length).toBe(100);
    for (let k = 0; k < last.test.length; k++) {
      const u = last.test.user[k]!;
      const userTrainTimes = Array.from(last.train.time).filter((_, n) => last.train.user[n] === u);
      expect(last.test.time[k]!).toBeGreaterThan(Math.max(...userTrainTimes));
    }
    const untimed = await loadDelimited(await file("nt.csv", "u1,a\nu1,b\n"));
    expect(() => leaveLastN(untimed.log)).toThrow(/timestamps; 2 of 2/);
  });

  it("explicit train/test files: unseen test users and items are counted, not fatal", async () => {
    const train = await file("train.csv", "u1,a\nu1,b\nu2,b\n");
    const test = await file("test.csv", "u1,c\nu1,a\nu2,a\nu3,a\nu3,z\n");
    const split = await loadExplicitSplit(train, test);
    expect(split.report.alignment).toEqual({ unseenUsers: 1, unseenItems: 2, droppedEvents: 3 });
    expect(split.test.ids).toBe(split.train.ids);
    expect(Array.from(split.test.user)).toEqual([0, 1]);
    expect(Array.from(split.test.item)).toEqual([0, 0]);
  });
});
