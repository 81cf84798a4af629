/**
 * User-kNN against exact neighbours and scores of a tiny data set computed apart
 * (scripts/content-reference/generate.py, pure Python from the definitions; its JSON committed).
 * One row by hand: u5 = {i0, i5} shares i0 with u0 = {i0, i1}: 1 / (√2·√2 + 1) = 1/3.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BadInput } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { buildInteractions } from "../data/interactions.ts";
import { LogBuilder, selectEvents } from "../data/log.ts";
import { evaluate } from "../eval/evaluate.ts";
import { fitModel, recommenderFor, resolveParameters } from "./index.ts";
import { fitUserUser, scoreUserUser } from "./user-knn.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const reference = JSON.parse(
  readFileSync(path.join(here, "../../../../scripts/content-reference/reference.json"), "utf8"),
).userKnn as {
  users: string[];
  items: string[];
  histories: Record<string, string[]>;
  k: number;
  shrink: number;
  neighbours: Record<string, number>[];
  scores: number[][];
};

const log = new LogBuilder();
for (const user of reference.users)
  for (const item of reference.histories[user]!) log.add(user, item, Number.NaN, Number.NaN);
const train = buildInteractions(log.finish());
const userIndex = reference.users.map((id) => train.ids.users.indexOf(id));
const itemIndex = reference.items.map((id) => train.ids.items.indexOf(id));

describe("user-knn", () => {
  const model = fitUserUser(
    train,
    resolveParameters(recommenderFor("user-knn"), {
      neighbours: reference.k,
      shrink: reference.shrink,
    }),
  );

  it("keeps each user's k most similar users with the reference cosine", () => {
    reference.users.forEach((user, r) => {
      const u = userIndex[r]!;
      const got: Record<string, number> = {};
      for (let n = model.neighbours.indptr[u]!; n < model.neighbours.indptr[u + 1]!; n++)
        got[train.ids.users[model.neighbours.indices[n]!]!] = model.neighbours.values[n]!;
      const want = reference.neighbours[r]!;
      expect(Object.keys(got).sort(), user).toEqual(Object.keys(want).sort());
      for (const [v, w] of Object.entries(want)) expect(got[v]).toBeCloseTo(w, 6);
    });
    expect(reference.neighbours[5]!.u0).toBeCloseTo(1 / 3, 12);
  });

  it("scores every item as the weighted sum of the neighbours' histories", () => {
    reference.users.forEach((_, r) => {
      const scores = scoreUserUser(model, { userIndex: userIndex[r]! });
      reference.scores[r]!.forEach((want, i) => expect(scores[itemIndex[i]!]).toBeCloseTo(want, 6));
    });
  });

  it("is evaluated like the other kinds: u3 = {i3} with i4 held out", () => {
    // neighbours of u3 = {i3}: u2 {i1, i2, i3} 1/(√3 + 1) ≈ 0.366, u4 {i2, i3, i4, i5} 1/(2 + 1);
    // scores i2 0.699, i1 0.366, i4 = i5 = 1/3 (the tie to the lower index, i4): rank 3
    const all = new LogBuilder();
    for (const user of reference.users)
      for (const item of reference.histories[user]!) all.add(user, item, NaN, NaN);
    const events = all.finish();
    const isTest = (n: number) =>
      events.ids.users[events.user[n]!] === "u3" && events.ids.items[events.item[n]!] === "i4";
    const positions = (test: boolean) =>
      Int32Array.from(
        Array.from({ length: events.length }, (_, n) => n).filter((n) => isTest(n) === test),
      );
    const split = buildInteractions(selectEvents(events, positions(false)));
    const test = buildInteractions(selectEvents(events, positions(true)));
    const fitted = fitUserUser(split, resolveParameters(recommenderFor("user-knn"), {}));
    const e = evaluate(fitted, split, test, { ks: [2, 3] });
    expect(e.users).toBe(1);
    expect(e.metrics["2"]!.recall).toBe(0);
    expect(e.metrics["3"]!.recall).toBe(1);
  });

  it("cannot be exported: fitting it for training is a clear error", async () => {
    await expect(fitModel("user-knn", train)).rejects.toThrow(BadInput);
    await expect(fitModel("user-knn", train)).rejects.toThrow(/cannot be exported or served/);
  });
});
