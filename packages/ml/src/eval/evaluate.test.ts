import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadDelimited } from "../data/delimited.ts";
import { loadExplicitSplit } from "../data/explicit.ts";
import { buildInteractions } from "../data/interactions.ts";
import { selectEvents } from "../data/log.ts";
import { fitModel } from "../models/index.ts";
import { evaluate } from "./evaluate.ts";
import { MetricAccumulator } from "./metrics.ts";
import { formatMetricsTable } from "./table.ts";

// Train counts: a=3, b=2, c=d=e=1 → popularity order a, b, c, d, e (ties by first appearance).
const TRAIN = "userId,itemId\nu1,a\nu1,b\nu2,a\nu2,c\nu3,a\nu3,b\nu3,d\nu4,e\n";
// u2,a is already in train; x and f are unseen items; u5 is an unseen user.
const TEST = "userId,itemId\nu1,c\nu1,e\nu2,b\nu2,a\nu3,e\nu3,x\nu4,a\nu4,b\nu4,f\nu5,a\n";

async function fixture() {
  const dir = await mkdtemp(path.join(tmpdir(), "ml-eval-"));
  const trainPath = path.join(dir, "train.csv");
  const testPath = path.join(dir, "test.csv");
  await writeFile(trainPath, TRAIN);
  await writeFile(testPath, TEST);
  return loadExplicitSplit(trainPath, testPath);
}

describe("evaluate", () => {
  it("popularity on an explicit train/test pair equals the hand-computed metrics exactly", async () => {
    const split = await fixture();
    expect(split.report.alignment).toEqual({ unseenUsers: 1, unseenItems: 2, droppedEvents: 3 });
    const train = buildInteractions(split.train);
    const test = buildInteractions(split.test);
    const { model } = await fitModel("popularity", train);
    const result = evaluate(model, train, test, { ks: [1, 2] });
    expect(result.users).toBe(4);
    expect(result.excluded).toEqual({ usersWithoutTrain: 0, testItemsAlreadyInTrain: 1 });
    // Top-2 after removing train items: u1 [c,d] T={c,e}; u2 [b,d] T={b}; u3 [c,e] T={e}; u4 [a,b] T={a,b}.
    const idcg2 = 1 + 1 / Math.log2(3);
    expect(result.metrics["2"]).toEqual({
      precision: (0.5 + 0.5 + 0.5 + 1) / 4,
      recall: (0.5 + 1 + 1 + 1) / 4,
      recall_capped: (0.5 + 1 + 1 + 1) / 4,
      ndcg: (1 / idcg2 + 1 + 1 / Math.log2(3) + 1) / 4,
      map: (0.5 + 1 + 0.5 + 1) / 4,
      hit_rate: 1,
      coverage: 5 / 5,
    });
    // Top-1: u1 c ✓, u2 b ✓, u3 c ✗, u4 a ✓.
    expect(result.metrics["1"]).toEqual({
      precision: 0.75,
      recall: (0.5 + 1 + 0 + 0.5) / 4,
      recall_capped: 0.75,
      ndcg: 0.75,
      map: 0.75,
      hit_rate: 0.75,
      coverage: 3 / 5,
    });
  });

  it("never recommends a user's train items back", async () => {
    const split = await fixture();
    const train = buildInteractions(split.train);
    for (const kind of ["popularity", "item-knn", "rp3beta"]) {
      const { model } = await fitModel(kind, train);
      const result = evaluate(model, train, train, { ks: [5] });
      // Every test item is a train item, so none can be hit.
      expect(result.users, kind).toBe(0);
      expect(result.excluded.testItemsAlreadyInTrain).toBe(8);
    }
  });
});

describe("evaluation protocols (test items never seen in train)", () => {
  it("field protocol: an explicit test file's unseen items stay in the denominator as misses", async () => {
    const split = await fixture();
    // Unseen-item events of users known in train: u3–x and u4–f (u5 is an unseen user, left out).
    const unseenLog = split.unseenTestItems;
    expect(unseenLog.length).toBe(2);
    expect(unseenLog.ids.items).toEqual(["x", "f"]);
    expect(Array.from(unseenLog.user, (u) => unseenLog.ids.users[u])).toEqual(["u3", "u4"]);
    const train = buildInteractions(split.train);
    const test = buildInteractions(split.test);
    const { model } = await fitModel("popularity", train);
    // Per train user u1..u4: distinct unseen test items 0, 0, 1 (x), 1 (f).
    const unseenTestItems = [0, 0, 1, 1];
    const field = evaluate(model, train, test, { ks: [2], unseenTestItems });
    expect(field.protocol).toBe("field");
    expect(field.users).toBe(4);
    expect(field.unrankableTestItems).toBe(2);
    // Top-2 (popularity a 3, b 2, c = d = e 1, ties by index), train items removed:
    //   u1 [c,d], test {c,e}      → 1 hit at rank 1, |T| = 2
    //   u2 [b,d], test {b}        → 1 hit at rank 1, |T| = 1
    //   u3 [c,e], test {e} + x    → 1 hit at rank 2, |T| = 2
    //   u4 [a,b], test {a,b} + f  → 2 hits at ranks 1, 2, |T| = 3
    // recall: 1/2, 1, 1/2, 2/3. recall_capped (÷ min(2,|T|)): 1/2, 1, 1/2, 1.
    // ndcg, ideal over min(2,|T|) ranks (IDCG₂ = 1 + 1/log2 3, IDCG₁ = 1):
    //   u1 1/IDCG₂, u2 1, u3 (1/log2 3)/IDCG₂, u4 IDCG₂/IDCG₂ = 1.
    // map (Σ precision at hits ÷ min(2,|T|)): u1 1/2, u2 1, u3 (1/2)/2, u4 (1 + 1)/2.
    const idcg2 = 1 + 1 / Math.log2(3);
    expect(field.metrics["2"]).toEqual({
      precision: (0.5 + 0.5 + 0.5 + 1) / 4,
      recall: (0.5 + 1 + 0.5 + 2 / 3) / 4,
      recall_capped: (0.5 + 1 + 0.5 + 1) / 4,
      ndcg: (1 / idcg2 + 1 + 1 / Math.log2(3) / idcg2 + 1) / 4,
      map: (0.5 + 1 + 0.25 + 1) / 4,
      hit_rate: 1,
      coverage: 5 / 5,
    });
  });

  it("drop-unrankable: the same unseen items are left out, as before the field protocol", async () => {
    const split = await fixture();
    const train = buildInteractions(split.train);
    const test = buildInteractions(split.test);
    const { model } = await fitModel("popularity", train);
    const dropped = evaluate(model, train, test, {
      ks: [2],
      unseenTestItems: [0, 0, 1, 1],
      protocol: "drop-unrankable",
    });
    expect(dropped.protocol).toBe("drop-unrankable");
    expect(dropped.users).toBe(4);
    expect(dropped.unrankableTestItems).toBe(2);
    // Same top-2 lists; |T| without x and f: u3 1 (hit at rank 2), u4 2 (both hit).
    const idcg2 = 1 + 1 / Math.log2(3);
    expect(dropped.metrics["2"]).toEqual({
      precision: (0.5 + 0.5 + 0.5 + 1) / 4,
      recall: (0.5 + 1 + 1 + 1) / 4,
      recall_capped: (0.5 + 1 + 1 + 1) / 4,
      ndcg: (1 / idcg2 + 1 + 1 / Math.log2(3) + 1) / 4,
      map: (0.5 + 1 + 0.5 + 1) / 4,
      hit_rate: 1,
      coverage: 5 / 5,
    });
  });

  it("an item inside the id space with no train interaction: a miss (field) or left out, with its user (drop)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ml-eval-"));
    const file = path.join(dir, "all.csv");
    // Rows 0–4 train, rows 5–8 test; z occurs only in test (index 3 of the shared id space).
    await writeFile(file, "userId,itemId\nu1,a\nu1,b\nu2,a\nu2,c\nu3,a\nu1,c\nu1,z\nu2,z\nu3,b\n");
    const { log } = await loadDelimited(file);
    const train = buildInteractions(selectEvents(log, Int32Array.from([0, 1, 2, 3, 4])));
    const test = buildInteractions(selectEvents(log, Int32Array.from([5, 6, 7, 8])));
    const { model } = await fitModel("popularity", train);
    // Popularity a 3, b 1, c 1, z 0. Top-1 with train items removed:
    //   u1 (a,b) → c: hit, test {c,z}; u2 (a,c) → b: miss, test {z}; u3 (a) → b (tie with c, lower
    //   index): hit, test {b}. Recommended items: c, b of 4.
    const field = evaluate(model, train, test, { ks: [1] });
    expect(field.users).toBe(3);
    expect(field.unrankableTestItems).toBe(2);
    // recall 1/2, 0, 1; every ÷min(1,|T|) metric 1, 0, 1.
    expect(field.metrics["1"]).toEqual({
      precision: 2 / 3,
      recall: (0.5 + 0 + 1) / 3,
      recall_capped: 2 / 3,
      ndcg: 2 / 3,
      map: 2 / 3,
      hit_rate: 2 / 3,
      coverage: 2 / 4,
    });
    const dropped = evaluate(model, train, test, { ks: [1], protocol: "drop-unrankable" });
    // u2 has no rankable test item and is not averaged; u1's |T| is 1 (c).
    expect(dropped.users).toBe(2);
    expect(dropped.unrankableTestItems).toBe(2);
    expect(dropped.metrics["1"]).toEqual({
      precision: 1,
      recall: 1,
      recall_capped: 1,
      ndcg: 1,
      map: 1,
      hit_rate: 1,
      coverage: 2 / 4,
    });
  });

  it("refuses an unknown protocol and unseen counts of the wrong length, naming them", async () => {
    const split = await fixture();
    const train = buildInteractions(split.train);
    const test = buildInteractions(split.test);
    const { model } = await fitModel("popularity", train);
    expect(() =>
      evaluate(model, train, test, { protocol: "lenient" as unknown as "field" }),
    ).toThrow(/protocol must be one of field, drop-unrankable, got "lenient"/);
    expect(() => evaluate(model, train, test, { unseenTestItems: [1, 2] })).toThrow(
      /unseenTestItems must hold one count per train user \(4\), got 2/,
    );
  });
});

describe("MetricAccumulator", () => {
  it("distinguishes recall from recall_capped and averages over users", () => {
    const accumulator = new MetricAccumulator(2, 10);
    const truth = new Set([1, 2, 3, 4]);
    accumulator.add(Int32Array.from([1, 9]), (item) => truth.has(item), 4);
    accumulator.add(Int32Array.from([5, 6]), () => false, 1);
    const result = accumulator.result();
    expect(result.recall).toBe((1 / 4 + 0) / 2);
    expect(result.recall_capped).toBe((1 / 2 + 0) / 2);
    expect(result.precision).toBe(0.25);
    expect(result.map).toBe(0.25);
    expect(result.coverage).toBe(4 / 10);
  });

  it("prints a Markdown table with a row per model", async () => {
    const split = await fixture();
    const train = buildInteractions(split.train);
    const test = buildInteractions(split.test);
    const { model } = await fitModel("popularity", train);
    const table = formatMetricsTable([
      { name: "popularity", evaluation: evaluate(model, train, test, { ks: [2] }) },
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\| model +\| precision@2 \| recall@2 \| recall_capped@2 \| +ndcg@2 \| +map@2 \|/,
    );
    expect(lines[2]).toContain("| 0.8110 |");
  });
});
