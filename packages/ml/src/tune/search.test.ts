import { describe, expect, it } from "vitest";
import { LogBuilder } from "../data/log.ts";
import { seededRandom } from "../data/random.ts";
import { formatTuneTable, tune } from "./search.ts";

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

describe("tune", () => {
  it("random search is reproducible, starts from the defaults and ranks trials by validation NDCG@10", async () => {
    const log = tasteGroups();
    const first = await tune(log, { kind: "item-knn", trials: 6, seed: 3 });
    const again = await tune(log, { kind: "item-knn", trials: 6, seed: 3 });
    expect(first.trials.map((trial) => trial.params)).toEqual(
      again.trials.map((trial) => trial.params),
    );
    expect(first.trials).toHaveLength(6);
    expect(first.trials.map((trial) => trial.params)).toContainEqual({
      neighbours: 310,
      shrink: 61.4,
    });
    const scores = first.trials.map((trial) => trial.ndcg10);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(first.best).toBe(first.trials[0]);
    expect(first.validation.trainEvents + first.validation.validationEvents).toBe(log.length);
    for (const trial of first.trials) {
      expect(trial.params.neighbours).toBeGreaterThanOrEqual(10);
      expect(trial.params.neighbours).toBeLessThanOrEqual(1000);
    }
    const table = formatTuneTable(first).split("\n");
    expect(table[0]).toMatch(/neighbours \| +shrink \| ndcg@10 \| recall@10 \| seconds/);
    expect(table).toHaveLength(2 + 6);
  });

  it("keeps fixed parameters and runs once for a model without a search space", async () => {
    const log = tasteGroups();
    const fixed = await tune(log, {
      kind: "ials",
      trials: 3,
      fixed: { factors: 4, epochs: 2, threads: 0 },
    });
    for (const trial of fixed.trials)
      expect(trial.params).toMatchObject({ factors: 4, epochs: 2, threads: 0 });
    const popularity = await tune(log, { kind: "popularity", trials: 5 });
    expect(popularity.trials).toHaveLength(1);
    await expect(tune(log, { kind: "ials", fixed: { factors: -1 } })).rejects.toThrow(
      /"factors" must be in/,
    );
  });
});
