import type { Random } from "./random.ts";

/**
 * How a synthetic user answers a list of recommendations. Each served item that is in the user's
 * held-out future (an item they really went on to rate) is a "hit"; every hit independently tempts
 * the user with `hitProbability`, and a list without hits is still clicked with `baseProbability`
 * (curiosity, misclicks). So P(click) = 1 − (1 − base) · (1 − hit)^hits: a model that puts more of
 * the user's future in the list earns a higher click-through, and one that puts none earns `base`.
 */
export interface ClickModel {
  /** P(click) for a list with no hit. */
  baseProbability: number;
  /** How much each hit adds, as an independent chance to click. */
  hitProbability: number;
  /** After a click on a hit: P(the user also watches the item, then rates it as in the data). */
  watchProbability: number;
}

export const DEFAULT_CLICK_MODEL: ClickModel = {
  baseProbability: 0.02,
  hitProbability: 0.35,
  watchProbability: 0.6,
};

export function clickProbability(hits: number, model: ClickModel = DEFAULT_CLICK_MODEL): number {
  if (!Number.isInteger(hits) || hits < 0)
    throw new RangeError(`hits must be a whole number ≥ 0, got ${hits}`);
  return 1 - (1 - model.baseProbability) * (1 - model.hitProbability) ** hits;
}

export interface ClickDecision {
  /** the item clicked, or undefined for no click */
  itemId?: string;
  /** whether the clicked item is in the user's future */
  hit: boolean;
  /** served items in the user's future */
  hits: number;
}

/**
 * Decides whether the user clicks `served` (in ranked order) and on what: the highest-ranked hit
 * when there is one, else a served item at random. One draw for the click, one for a non-hit pick.
 */
export function decideClick(
  served: readonly string[],
  future: ReadonlySet<string>,
  random: Random,
  model: ClickModel = DEFAULT_CLICK_MODEL,
): ClickDecision {
  const hitItems = served.filter((item) => future.has(item));
  const hits = hitItems.length;
  if (served.length === 0) return { hit: false, hits };
  if (random.next() >= clickProbability(hits, model)) return { hit: false, hits };
  if (hits > 0) return { itemId: hitItems[0]!, hit: true, hits };
  return { itemId: served[random.int(served.length)]!, hit: false, hits };
}
