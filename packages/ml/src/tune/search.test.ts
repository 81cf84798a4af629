import { describe, expect, it } from "vitest";
import type { Interactions } from "../data/interactions.ts";
import { LogBuilder } from "../data/log.ts";
import { seededRandom } from "../data/random.ts";
import { recommenderFor } from "../models/index.ts";
import {
  type HyperParameters,
  type Recommender,
  resolveParameters,
} from "../models/recommender.ts";
import type { FactorParams } from "../params.ts";
import { formatTuneTable, halvingRungs, tune } from "./search.ts";
import { tuneAndTrain } from "./train.ts";

/** 120 users in 3 taste groups of 20 items each, 10 interactions per user. */
function tasteGroups() {
  const random = seededRandom(5);
  const builder = new LogBuilder();
  for (let u = 0; u < 120; u++) {
    const group = u % 3;
    const picked = new Set<number>();
    while (picked.size < 10) picked.add(group * 20 + random.int(20));
    for (const item of picked) builder.add(`u${u}`, `i${item}`, Number.NaN, Number.NaN);
  }
  return builder.finish();
}

/**
 * A model whose quality is known by construction: it knows every user's full library (from the
 * generator, not from the tuner) and ranks the items the fit set lacks — the held-out ones —
 * right below `level` decoys. NDCG@10 therefore falls strictly with `level`, for every user and
 * every subsample of users, and `level` 0 is the best candidate.
 */
function levelledOracle(libraries: Map<string, Set<string>>, fits: HyperParameters[]): Recommender {
  return {
    kind: "oracle",
    summary: "ranks the held-out items below `level` decoys",
    parameters: {
      level: { default: 4, min: 0, max: 8, integer: true, search: [0, 8], help: "decoys" },
      epochs: { default: 9, min: 1, max: 100, integer: true, help: "budget, unused" },
    },
    async fit(train: Interactions, params: HyperParameters) {
      fits.push(params);
      const { nUsers, nItems } = train;
      const userFactors = new Float32Array(nUsers * nItems);
      const itemFactors = new Float32Array(nItems * nItems);
      for (let i = 0; i < nItems; i++) itemFactors[i * nItems + i] = 1;
      for (let u = 0; u < nUsers; u++) {
        const library = libraries.get(train.ids.users[u]!)!;
        const seen = new Set<number>();
        for (let e = train.userItems.indptr[u]!; e < train.userItems.indptr[u + 1]!; e++)
          seen.add(train.userItems.indices[e]!);
        let decoys = 0;
        for (let i = 0; i < nItems; i++) {
          if (seen.has(i)) continue;
          if (library.has(train.ids.items[i]!)) userFactors[u * nItems + i] = 100;
          else if (decoys < params.level!) userFactors[u * nItems + i] = 200 - decoys++;
        }
      }
      const model: FactorParams = {
        kind: "factors",
        factors: nItems,
        nUsers,
        nItems,
        userFactors,
        itemFactors,
        regularization: 0,
        alpha: 0,
      };
      return model;
    },
  };
}

function withoutTimes<T extends { seconds: number }>(trials: T[]) {
  return trials.map(({ seconds: _seconds, ...rest }) => rest);
}

describe("halvingRungs", () => {
  it("keeps ⌊n/3^r⌋ candidates at budgets 3^(r−R), at most three rungs", () => {
    expect(halvingRungs(27, 3)).toEqual([
      { size: 27, budget: 1 / 9 },
      { size: 9, budget: 1 / 3 },
      { size: 3, budget: 1 },
    ]);
    expect(halvingRungs(9, 3)).toEqual([
      { size: 9, budget: 1 / 9 },
      { size: 3, budget: 1 / 3 },
      { size: 1, budget: 1 },
    ]);
    expect(halvingRungs(5, 3)).toEqual([
      { size: 5, budget: 1 / 3 },
      { size: 1, budget: 1 },
    ]);
    expect(halvingRungs(2, 3)).toEqual([{ size: 2, budget: 1 }]);
    expect(halvingRungs(1, 2)).toEqual([{ size: 1, budget: 1 }]);
  });
});

describe("tune", () => {
  it("is reproducible: the same seed gives the same trials, scores and winner; another seed other candidates", async () => {
    const log = tasteGroups();
    const options = { kinds: ["item-knn", "rp3beta"], trials: 9, seed: 3 };
    const first = await tune(log, options);
    const again = await tune(log, options);
    expect(withoutTimes(again.trials)).toEqual(withoutTimes(first.trials));
    expect(again.best.params).toEqual(first.best.params);
    // 9 candidates per kind: 9 + 3 + 1 trials each
    expect(first.trials).toHaveLength(26);
    for (const kind of ["item-knn", "rp3beta"]) {
      const ofKind = first.trials.filter((trial) => trial.kind === kind);
      // the defaults are always a candidate
      expect(ofKind[0]!.params).toEqual(resolveParameters(recommenderFor(kind)));
      expect(ofKind[0]!.candidate).toBe(0);
      expect(new Set(ofKind.map((trial) => JSON.stringify(trial.params))).size).toBe(9);
    }
    const other = await tune(log, { ...options, seed: 4 });
    const drawn = (result: typeof first) =>
      result.trials.filter((t) => t.rung === 0 && t.candidate > 0).map((t) => t.params);
    expect(drawn(other)).not.toEqual(drawn(first));
    expect(first.validation.trainEvents + first.validation.validationEvents).toBe(log.length);
    // the best kind's winner leads, and it is that kind's best at the top rung
    expect(first.kinds[0]!.best).toBe(first.best);
    expect(first.best.score).toBeGreaterThanOrEqual(first.kinds[1]!.best.score);
    const table = formatTuneTable(first).split("\n");
    expect(table[0]).toMatch(/kind +\| validation recall@20 \| candidates \| trials/);
  });

  it("successive halving promotes the best third at each rung and picks the candidate best by construction", async () => {
    const log = tasteGroups();
    const libraries = new Map<string, Set<string>>();
    for (let n = 0; n < log.length; n++) {
      const user = log.ids.users[log.user[n]!]!;
      if (!libraries.has(user)) libraries.set(user, new Set());
      libraries.get(user)!.add(log.ids.items[log.item[n]!]!);
    }
    const fits: HyperParameters[] = [];
    const oracle = levelledOracle(libraries, fits);
    const result = await tune(log, {
      kinds: "oracle",
      recommenders: { oracle },
      trials: 9,
      seed: 11,
      metric: "ndcg@10",
      minValidationUsers: 1,
    });
    // the integer space 0..8 holds 9 values: the 9 candidates are all of them
    const rung0 = result.trials.filter((trial) => trial.rung === 0);
    expect(rung0.map((trial) => trial.params.level).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rung0[0]!.params.level).toBe(4); // the defaults first
    // rung 1 holds the three best of rung 0 (levels 0, 1, 2), rung 2 the best of those
    const rung1 = result.trials.filter((trial) => trial.rung === 1);
    expect(rung1.map((trial) => trial.params.level).sort()).toEqual([0, 1, 2]);
    const rung2 = result.trials.filter((trial) => trial.rung === 2);
    expect(rung2.map((trial) => trial.params.level)).toEqual([0]);
    expect(result.best.params).toEqual({ level: 0, epochs: 9 });
    // level 0 ranks both held-out items first: NDCG@10 = 1 exactly
    expect(result.best.score).toBeCloseTo(1, 12);
    // cheap rungs: a ninth, then a third of the 120 validation users, and fewer epochs
    expect(rung0.every((trial) => trial.users === Math.ceil(120 / 9))).toBe(true);
    expect(rung1.every((trial) => trial.users === 40)).toBe(true);
    expect(rung2[0]!.users).toBe(120);
    expect(fits.map((params) => params.epochs)).toEqual([...Array(9).fill(2), 3, 3, 3, 9]);
  });

  it("on a small data set (users raised to the minimum) cuts no epochs and fits nothing twice", async () => {
    const log = tasteGroups();
    const libraries = new Map<string, Set<string>>();
    for (let n = 0; n < log.length; n++) {
      const user = log.ids.users[log.user[n]!]!;
      if (!libraries.has(user)) libraries.set(user, new Set());
      libraries.get(user)!.add(log.ids.items[log.item[n]!]!);
    }
    const fits: HyperParameters[] = [];
    const result = await tune(log, {
      kinds: "oracle",
      recommenders: { oracle: levelledOracle(libraries, fits) },
      trials: 9,
      seed: 11,
      metric: "ndcg@10",
      minValidationUsers: 500, // more than the 120 users: every rung scores all of them
    });
    // nine fits, all with the full 9 epochs; rungs 1 and 2 (3 + 1 trials) reuse rung 0's scores
    expect(fits.map((params) => params.epochs)).toEqual(Array(9).fill(9));
    expect(result.trials).toHaveLength(13);
    expect(result.trials.every((trial) => trial.users === 120)).toBe(true);
    const later = result.trials.filter((trial) => trial.rung > 0);
    expect(later.every((trial) => trial.reused === true && trial.seconds === 0)).toBe(true);
    expect(later.map((trial) => trial.params.level).sort()).toEqual([0, 0, 1, 2]);
    expect(result.best.params).toEqual({ level: 0, epochs: 9 });
    expect(result.best.score).toBeCloseTo(1, 12);
  });

  it("fixes parameters per kind, seeds seeded kinds and runs a kind without a search space once", async () => {
    const log = tasteGroups();
    const result = await tune(log, {
      kinds: ["ials", "popularity"],
      trials: 3,
      seed: 7,
      fixed: { factors: 4, epochs: 2, threads: 0 },
    });
    for (const trial of result.trials.filter((t) => t.kind === "ials"))
      expect(trial.params).toMatchObject({ factors: 4, epochs: 2, threads: 0, seed: 7 });
    expect(result.trials.filter((t) => t.kind === "popularity")).toHaveLength(1);
  });

  it("all leaves EASE^R out above 5,000 items and says why; named, it is tuned", async () => {
    const builder = new LogBuilder();
    for (let i = 0; i < 5001; i++) builder.add(`u${i % 50}`, `i${i}`, Number.NaN, Number.NaN);
    const log = builder.finish();
    const popularity = recommenderFor("popularity");
    const registry = {
      ease: { ...popularity, kind: "ease" },
      popularity,
    };
    const all = await tune(log, { kinds: "all", recommenders: registry, trials: 1 });
    expect(all.kinds.map((k) => k.kind)).toEqual(["popularity"]);
    expect(all.leftOut).toEqual([
      {
        kind: "ease",
        reason:
          "5001 items > 5000: its dense solve takes minutes per trial on a catalogue this large (tune it with --model ease)",
      },
    ]);
    const named = await tune(log, { kinds: ["ease"], recommenders: registry, trials: 1 });
    expect(named.kinds.map((k) => k.kind)).toEqual(["ease"]);
    expect(named.leftOut).toEqual([]);
  });

  it("refuses bad input with a message naming it", async () => {
    const log = tasteGroups();
    await expect(tune(log, { kinds: "item-knn", trials: 0 })).rejects.toThrow(
      "trials must be a positive integer, got 0",
    );
    await expect(tune(log, { kinds: "item-knn", trials: 2.5 })).rejects.toThrow(/got 2.5/);
    await expect(tune(log, { kinds: "nope" })).rejects.toThrow(/nope/);
    await expect(tune(log, { kinds: ["item-knn", "nope"] })).rejects.toThrow(/unknown.*nope/i);
    await expect(tune(log, { kinds: "item-knn", fixed: { bogus: 1 } })).rejects.toThrow(
      /unknown fixed parameter "bogus": no tuned model kind declares it \(item-knn: neighbours/,
    );
    await expect(tune(log, { kinds: "ials", fixed: { factors: -1 } })).rejects.toThrow(
      /"factors" must be in/,
    );
    await expect(tune(log, { kinds: "ials", metric: "recall" })).rejects.toThrow(
      /metric must be NAME@K/,
    );
    await expect(tune(log, { kinds: "ials", validationFraction: 1 })).rejects.toThrow(
      /validation fraction must be in \(0, 1\), got 1/,
    );
  });
});

describe("tuneAndTrain", () => {
  it("fits the winner on every train event with the winning parameters", async () => {
    const log = tasteGroups();
    const tuned = await tuneAndTrain(log, { kinds: ["item-knn", "rp3beta"], trials: 3, seed: 3 });
    expect(tuned.kind).toBe(tuned.tuning.best.kind);
    expect(tuned.params).toEqual(tuned.tuning.best.params);
    expect(tuned.interactions.userItems.indptr[tuned.interactions.nUsers]).toBe(log.length);
    const direct = await recommenderFor(tuned.kind).fit(tuned.interactions, tuned.params);
    expect(tuned.model).toEqual(direct);
  });
});
