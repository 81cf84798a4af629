import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadExplicitSplit } from "../data/explicit.ts";
import { buildInteractions } from "../data/interactions.ts";
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
