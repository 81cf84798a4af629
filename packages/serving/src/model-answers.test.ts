import { DEFAULT_FEATURE_KEY_PREFIX, NotFound, recentItemsKey } from "@reco/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { looseHarness, type LooseHarness } from "./loose-model.fixture.ts";

/**
 * What the service makes of a model's answer, whatever the model does: a model that returns every
 * item, an index it has no item for, and the user's own history (LooseModel, whose ranking is
 * stated in loose-model.fixture.ts, so each expectation below is written from that rule by hand).
 * An answer holds k items at most, never an unknown or excluded one; an empty model answer is a
 * fallback; the request's context reaches the model; popularity-kind models; each user's own
 * history; the warm threshold at exactly its value.
 */
describe("RecommendationService: the model's answer, made safe and routed", () => {
  let harness: LooseHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof looseHarness>[0] = {}) =>
    (harness = await looseHarness(options));
  const picked = (answer: { items: { itemId?: string; reason: string }[] }) =>
    answer.items.map((item) => `${item.itemId}:${item.reason}`);

  // w5: the model's row 1 (ranking from i5) and exactly warmMinInteractions (5) events, i5..i9;
  // w4: row 2 (from i10) but one event short, so fold-in from its last item i3.
  const users = {
    model: { userIds: ["w0", "w5", "w4"] },
    histories: {
      w5: ["i5", "i6", "i7", "i8", "i9"],
      w4: ["i0", "i1", "i2", "i3"],
    },
  };

  it("drops the model's unknown index and the user's history, and keeps k items, all the model's", async () => {
    const h = await start(users);
    // The row from i5: i5..i9 seen, the stale index first → i10, i11, i12.
    const answer = await h.recommend("w5", 3);
    expect(answer.fallback).toBe(false);
    expect(picked(answer)).toEqual(["i10:personalized", "i11:personalized", "i12:personalized"]);
    // Each with the score the model gave it: 21 − its position in the model's answer (6, 7, 8).
    expect(answer.items.map((item) => item.score)).toEqual([15, 14, 13]);
    // The request's own excludes too, on the model's side of the answer.
    const excluded = await h.recommend("w5", 3, { exclude: ["i10", "i12"] });
    expect(picked(excluded)).toEqual(["i11:personalized", "i13:personalized", "i14:personalized"]);
  });

  it("a user with exactly warmMinInteractions events is scored by their row; one fewer folds in", async () => {
    const h = await start(users);
    // Row 1 would give i10…; fold-in from i9 gives the same items, so the reason tells them apart.
    expect(picked(await h.recommend("w5", 2))).toEqual(["i10:personalized", "i11:personalized"]);
    // w4's row would start at i10; fold-in after its last item i3 gives i4, i5.
    expect(picked(await h.recommend("w4", 2))).toEqual([
      "i4:similar_to_recent",
      "i5:similar_to_recent",
    ]);
  });

  it("the request's device and country reach the model", async () => {
    const h = await start(users);
    // In a context the model knows, its row for w5 runs the other way: i4, i3, i2, … (i5..i9 seen).
    const reversed = ["i4:personalized", "i3:personalized", "i2:personalized"];
    expect(picked(await h.recommend("w5", 3, { context: { device: "tv" } }))).toEqual(reversed);
    expect(picked(await h.recommend("w5", 3, { context: { country: "FR" } }))).toEqual(reversed);
    // Fold-in too: after w4's i3, reversed, without i0..i3 → i19, i18.
    expect(picked(await h.recommend("w4", 2, { context: { device: "tv" } }))).toEqual([
      "i19:similar_to_recent",
      "i18:similar_to_recent",
    ]);
    expect(picked(await h.recommend("w5", 1, { context: { device: "mobile" } }))).toEqual([
      "i10:personalized",
    ]);
  });

  it("two users at the same history version each get an answer from their own history", async () => {
    // a and b: two events each (the same version count), unknown to the model → fold-in.
    const histories = { a: ["i2", "i3"], b: ["i12", "i13"] };
    const h = await start({ histories });
    const expected = {
      a: ["i4:similar_to_recent", "i5:similar_to_recent"],
      b: ["i14:similar_to_recent", "i15:similar_to_recent"],
    };
    expect(picked(await h.recommend("a", 2))).toEqual(expected.a);
    expect(picked(await h.recommend("b", 2))).toEqual(expected.b);
    // Asked the other way round (fresh answers: another k), and after a new event of each.
    expect(picked(await h.recommend("b", 1))).toEqual(expected.b.slice(0, 1));
    expect(picked(await h.recommend("a", 1))).toEqual(expected.a.slice(0, 1));
    h.history.record("a", "i7");
    h.history.record("b", "i17");
    expect(picked(await h.recommend("b", 3))).toEqual([
      "i18:similar_to_recent",
      "i19:similar_to_recent",
      "i0:similar_to_recent",
    ]);
    expect(picked(await h.recommend("a", 3))).toEqual([
      "i8:similar_to_recent",
      "i9:similar_to_recent",
      "i10:similar_to_recent",
    ]);
  });

  describe("a model that honours the request's exclude and k (as the real scorer does)", () => {
    // w5: row 1 (from i5), seen i5..i9; w6: row 3 (from i15), seen i15..i19. Five events each.
    const strict = {
      model: { userIds: ["w0", "w5", "w4", "w6"], strict: true },
      histories: { w5: ["i5", "i6", "i7", "i8", "i9"], w6: ["i15", "i16", "i17", "i18", "i19"] },
    };

    it("is asked without each user's own seen items, users at the same history version included", async () => {
      const h = await start(strict);
      expect(picked(await h.recommend("w5", 3))).toEqual([
        "i10:personalized",
        "i11:personalized",
        "i12:personalized",
      ]);
      // Had the model been told w5's seen items, it would answer i15..i17, all seen by w6.
      const w6 = await h.recommend("w6", 3);
      expect(w6.fallback).toBe(false);
      expect(picked(w6)).toEqual(["i0:personalized", "i1:personalized", "i2:personalized"]);
    });

    it("is asked without the items seen on other instances, and never with one it does not know", async () => {
      const h = await start(strict);
      // The stream worker's recent list for w5: i10 (the model knows it) and x9 (it does not).
      const at = new Date().toISOString();
      await h.cache.pushLists(
        [
          {
            key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, "w5"),
            values: [
              { itemId: "x9", type: "click", at },
              { itemId: "i10", type: "click", at },
            ],
          },
        ],
        { maxLength: 10 },
      );
      const answer = await h.recommend("w5", 2);
      expect(answer.fallback).toBe(false);
      expect(picked(answer)).toEqual(["i11:personalized", "i12:personalized"]);
    });

    it("is asked without an item seen since the last answer", async () => {
      const h = await start(strict);
      expect(picked(await h.recommend("w5", 3))).toEqual([
        "i10:personalized",
        "i11:personalized",
        "i12:personalized",
      ]);
      h.history.record("w5", "i10");
      // Another k (a fresh answer): the model leaves out i10 too, so all k come from it.
      expect(picked(await h.recommend("w5", 2))).toEqual(["i11:personalized", "i12:personalized"]);
    });
  });

  it("an empty model answer is a fallback (empty_result), filled from popularity", async () => {
    const h = await start({ ...users, model: { ...users.model, empty: true } });
    for (const user of ["w5", "w4"]) {
      const answer = await h.recommend(user, 2);
      expect(answer.fallback).toBe(true);
      expect(answer.fallbackReason).toBe("empty_result");
      expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
      expect((await h.recommend(user, 2)).cached).toBe(false);
    }
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "empty_result" })).toBe(2 * 2);
  });

  describe("a popularity model", () => {
    const popularityModel = { model: { kind: "popularity" as const }, histories: { p: ["i0"] } };

    it("scores anyone with a history (reason personalized), in the request's context", async () => {
      const h = await start(popularityModel);
      // Its own order i0, i1, … (i0 seen), not the service's popularity (i19, i18, …).
      const answer = await h.recommend("p", 3);
      expect(answer.fallback).toBe(false);
      expect(answer.modelVersion).toBe("m@v1");
      expect(picked(answer)).toEqual(["i1:personalized", "i2:personalized", "i3:personalized"]);
      expect(picked(await h.recommend("p", 2, { context: { device: "tv" } }))).toEqual([
        "i19:personalized",
        "i18:personalized",
      ]);
      // A user without events is cold: the service's popularity.
      expect(picked(await h.recommend("nobody", 2))).toEqual(["i19:popular", "i18:popular"]);
    });

    it("is no source of similar items: similar() answers with popularity", async () => {
      const h = await start(popularityModel);
      const similar = await h.service.similar("i3", 2);
      expect(similar).toMatchObject({ modelVersion: "popularity", fallback: true });
      expect(similar.items.map((item) => item.itemId)).toEqual(["i19", "i18"]);
    });
  });

  describe("similar(itemId)", () => {
    it("k items at most, never the item itself, never an unknown index", async () => {
      const h = await start();
      const two = await h.service.similar("i3", 2);
      expect(two).toMatchObject({ itemId: "i3", modelVersion: "m@v1", fallback: false });
      expect(two.items.map((item) => `${item.itemId}:${item.reason}`)).toEqual([
        "i4:similar",
        "i5:similar",
      ]);
      // Asked for every item: the 19 others, in the model's order after i3.
      const all = await h.service.similar("i3", 20);
      expect(all.items.map((item) => item.itemId)).toEqual([
        ...Array.from({ length: 16 }, (_, j) => `i${j + 4}`),
        "i0",
        "i1",
        "i2",
      ]);
    });

    it("with no model: popularity, and no failure counted", async () => {
      const h = await start({ model: null });
      const similar = await h.service.similar("i3", 2);
      expect(similar).toMatchObject({ modelVersion: "popularity", fallback: true });
      expect(similar.items.map((item) => item.itemId)).toEqual(["i19", "i18"]);
      for (const reason of ["inference_error", "no_model", "empty_result"])
        expect(await h.metrics.value(h.metrics.fallbacks, { reason })).toBe(0);
    });

    it("an item the catalog does not have is a NotFound naming it", async () => {
      const h = await start();
      const refused = h.service.similar("nope", 2);
      await expect(refused).rejects.toBeInstanceOf(NotFound);
      await expect(refused).rejects.toThrow('item "nope" not found');
    });
  });
});
