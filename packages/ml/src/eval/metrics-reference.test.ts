import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadExplicitSplit } from "../data/explicit.ts";
import { buildInteractions } from "../data/interactions.ts";
import { seededRandom } from "../data/random.ts";
import { fitModel } from "../models/index.ts";
import { DEFAULT_KS, evaluate } from "./evaluate.ts";
import { MetricAccumulator, METRIC_NAMES, type MetricsAtK } from "./metrics.ts";

/**
 * The ranking metrics against a second, deliberately plain construction of their textbook
 * definitions (one user at a time, sets and slices, no running sums), on random rankings that
 * are shorter and longer than K, with few and many relevant items.
 */
function reference(
  users: { ranked: number[]; relevant: Set<number> }[],
  k: number,
  catalogueSize: number,
): MetricsAtK {
  const per = users.map(({ ranked, relevant }) => {
    const top = ranked.slice(0, k);
    const hitsAt = (n: number) => top.slice(0, n).filter((item) => relevant.has(item)).length;
    const hits = hitsAt(top.length);
    const ideal = Math.min(k, relevant.size);
    const dcg = top.reduce(
      (sum, item, i) => sum + (relevant.has(item) ? 1 / Math.log2(i + 2) : 0),
      0,
    );
    let idcg = 0;
    for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
    // average precision at K: precision at each relevant position, over min(K, |relevant|)
    const ap =
      top.reduce((sum, item, i) => sum + (relevant.has(item) ? hitsAt(i + 1) / (i + 1) : 0), 0) /
      ideal;
    return {
      precision: hits / k,
      recall: hits / relevant.size,
      recall_capped: hits / ideal,
      ndcg: dcg / idcg,
      map: ap,
      hit_rate: hits > 0 ? 1 : 0,
    };
  });
  const average = (name: keyof (typeof per)[number]) =>
    per.length ? per.reduce((sum, m) => sum + m[name], 0) / per.length : 0;
  const shown = new Set(users.flatMap(({ ranked }) => ranked.slice(0, k)));
  return {
    precision: average("precision"),
    recall: average("recall"),
    recall_capped: average("recall_capped"),
    ndcg: average("ndcg"),
    map: average("map"),
    hit_rate: average("hit_rate"),
    coverage: catalogueSize > 0 ? shown.size / catalogueSize : 0,
  };
}

describe("MetricAccumulator matches a plain implementation of the definitions", () => {
  it.each([1, 3, 10])("on 300 random users at K = %i", (k) => {
    const random = seededRandom(k);
    const catalogue = 60;
    const users = Array.from({ length: 300 }, () => {
      const items = Array.from({ length: catalogue }, (_, i) => i).sort(() => random.next() - 0.5);
      const length = random.int(k + 6); // 0 … K + 5 ranked items
      const relevant = new Set(items.slice(0, 1 + random.int(12)).reverse());
      // rankings that share items with the relevant set: shuffle a mix of both
      const ranked = [...new Set([...items.slice(0, 8), ...items.slice(20)])]
        .sort(() => random.next() - 0.5)
        .slice(0, length);
      return { ranked, relevant };
    });
    const accumulator = new MetricAccumulator(k, catalogue);
    for (const { ranked, relevant } of users)
      accumulator.add(Int32Array.from(ranked), (item) => relevant.has(item), relevant.size);
    const got = accumulator.result();
    const expected = reference(users, k, catalogue);
    for (const name of METRIC_NAMES) expect(got[name], name).toBeCloseTo(expected[name], 12);
    expect(Object.keys(got).sort()).toEqual([...METRIC_NAMES].sort());
  });

  it("a user whose every relevant item is ranked first scores 1 on every per-user metric but recall", () => {
    const accumulator = new MetricAccumulator(3, 10);
    accumulator.add(Int32Array.from([4, 5, 6]), (item) => item === 4 || item === 5, 2);
    expect(accumulator.result()).toEqual({
      precision: 2 / 3,
      recall: 1,
      recall_capped: 1,
      ndcg: 1,
      map: 1,
      hit_rate: 1,
      coverage: 0.3,
    });
  });

  it("reports zeros, not NaN, with no users or no catalogue", () => {
    expect(new MetricAccumulator(5, 10).result()).toEqual({
      precision: 0,
      recall: 0,
      recall_capped: 0,
      ndcg: 0,
      map: 0,
      hit_rate: 0,
      coverage: 0,
    });
    expect(new MetricAccumulator(5, 0).result().coverage).toBe(0);
  });
});

describe("evaluate", () => {
  async function split() {
    const dir = await mkdtemp(path.join(tmpdir(), "ml-eval-ref-"));
    const train = path.join(dir, "train.csv");
    const test = path.join(dir, "test.csv");
    await writeFile(train, "userId,itemId\nu1,a\nu1,b\nu2,a\nu2,c\nu3,a\nu3,b\nu3,d\nu4,e\n");
    // u5 has no train events; u2's test item a is already in its train set
    await writeFile(test, "userId,itemId\nu1,c\nu2,a\nu3,e\nu4,a\n");
    const s = await loadExplicitSplit(train, test);
    return { train: buildInteractions(s.train), test: buildInteractions(s.test) };
  }

  it("sorts the cut-offs, defaults to 10, 20, 50, and refuses bad ones by name", async () => {
    const { train, test } = await split();
    const { model } = await fitModel("popularity", train);
    expect(evaluate(model, train, test, { ks: [5, 1, 3] }).ks).toEqual([1, 3, 5]);
    expect(Object.keys(evaluate(model, train, test, { ks: [5, 1] }).metrics)).toEqual(["1", "5"]);
    expect(evaluate(model, train, test).ks).toEqual([...DEFAULT_KS]);
    expect(DEFAULT_KS).toEqual([10, 20, 50]);
    for (const ks of [[], [0], [2.5], [3, -1]])
      expect(() => evaluate(model, train, test, { ks })).toThrow(
        `cut-offs must be positive integers, got ${JSON.stringify(ks)}`,
      );
  });

  it("scores each user's top-K against only the test items not already in train", async () => {
    const { train, test } = await split();
    const { model } = await fitModel("popularity", train);
    const result = evaluate(model, train, test, { ks: [1] });
    // u2's only test item is in its train set: not evaluated, counted
    expect(result.users).toBe(3);
    expect(result.excluded).toEqual({ usersWithoutTrain: 0, testItemsAlreadyInTrain: 1 });
    // popularity order a, b, c, d, e minus train items: u1 → c ✓, u3 → c ✗ (e), u4 → a ✓
    expect(result.metrics["1"]!.hit_rate).toBeCloseTo(2 / 3, 15);
    expect(result.metrics["1"]!.coverage).toBeCloseTo(2 / 5, 15);
  });

  it("counts test users with no train positives, and never ranks for them", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ml-eval-cold-"));
    const train = path.join(dir, "train.csv");
    const test = path.join(dir, "test.csv");
    // u2's and u3's only train ratings are below the threshold of 3: no positives in train;
    // u3 has no test events either, so it is not a test user at all
    await writeFile(train, "userId,itemId,rating\nu1,a,5\nu1,b,4\nu2,a,1\nu3,b,2\nu4,c,5\n");
    await writeFile(test, "userId,itemId,rating\nu1,c,5\nu2,b,5\nu4,a,5\n");
    const s = await loadExplicitSplit(train, test);
    const trainSet = buildInteractions(s.train, { threshold: 3 });
    const testSet = buildInteractions(s.test, { threshold: 3 });
    const { model } = await fitModel("popularity", trainSet);
    const result = evaluate(model, trainSet, testSet, { ks: [1] });
    expect(result.excluded).toEqual({ usersWithoutTrain: 1, testItemsAlreadyInTrain: 0 });
    expect(result.users).toBe(2);
    // u1 → c (the only item left) ✓; u4 → a ✓
    expect(result.metrics["1"]!.hit_rate).toBe(1);
  });

  it("accepts other id-map objects of the same shape, and refuses another shape", async () => {
    const { train, test } = await split();
    const { model } = await fitModel("popularity", train);
    // the very same id maps: trusted as they are, whatever the counts say
    expect(test.ids).toBe(train.ids);
    expect(evaluate(model, train, { ...test, nItems: test.nItems + 1 }, { ks: [1] }).users).toBe(3);
    const copied = { ...test, ids: { ...test.ids } };
    expect(evaluate(model, train, copied, { ks: [1] }).users).toBe(3);
    const message = "test interactions must use the train set's id maps (see alignToIds)";
    expect(() =>
      evaluate(model, train, { ...copied, nUsers: train.nUsers + 1 }, { ks: [1] }),
    ).toThrow(message);
    expect(() =>
      evaluate(model, train, { ...copied, nItems: train.nItems + 1 }, { ks: [1] }),
    ).toThrow(message);
  });

  it("refuses test interactions built on other id maps", async () => {
    const { train } = await split();
    const dir = await mkdtemp(path.join(tmpdir(), "ml-eval-ids-"));
    await writeFile(path.join(dir, "a.csv"), "userId,itemId\nx,y\n");
    await writeFile(path.join(dir, "b.csv"), "userId,itemId\nx,y\n");
    const other = await loadExplicitSplit(path.join(dir, "a.csv"), path.join(dir, "b.csv"));
    const { model } = await fitModel("popularity", train);
    expect(() => evaluate(model, train, buildInteractions(other.test), { ks: [1] })).toThrow(
      "test interactions must use the train set's id maps (see alignToIds)",
    );
  });
});
