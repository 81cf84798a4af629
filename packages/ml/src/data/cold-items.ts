import { BadInput } from "@reco/contracts";
import { type InteractionLog, selectEvents } from "./log.ts";
import { seededRandom, shuffleRange } from "./random.ts";

/** A cold-item split: the held-out items' events are the test side, none of them is in train. */
export interface ColdItemSplit {
  train: InteractionLog;
  test: InteractionLog;
  /** dense indices of the held-out items, ascending */
  heldOut: Int32Array;
}

/**
 * Cold-item protocol: a seeded `fraction` of the items that have events (rounded, at least one)
 * is held out of training entirely; every event of theirs goes to test. The id maps stay whole, so
 * the held-out items are part of the ranked catalogue with no train interaction, as items created
 * after the model was trained.
 */
export function coldItemSplit(
  log: InteractionLog,
  options: { fraction: number; seed?: number },
): ColdItemSplit {
  const { fraction } = options;
  if (!(fraction > 0 && fraction < 1)) {
    throw new BadInput(`cold-items fraction must be in (0, 1), got ${fraction}`);
  }
  const nItems = log.ids.items.length;
  const hasEvents = new Uint8Array(nItems);
  for (let n = 0; n < log.length; n++) hasEvents[log.item[n]!] = 1;
  const candidates = Int32Array.from(hasEvents.keys()).filter((item) => hasEvents[item] === 1);
  if (candidates.length < 2) {
    throw new BadInput(`cold-items needs at least 2 items with events, got ${candidates.length}`);
  }
  const nHeldOut = Math.min(
    candidates.length - 1,
    Math.max(1, Math.round(candidates.length * fraction)),
  );
  shuffleRange(candidates, 0, candidates.length, seededRandom(options.seed ?? 42));
  const heldOut = candidates.slice(0, nHeldOut).sort();
  const isHeldOut = new Uint8Array(nItems);
  for (const item of heldOut) isHeldOut[item] = 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let n = 0; n < log.length; n++) (isHeldOut[log.item[n]!] ? test : train).push(n);
  return {
    train: selectEvents(log, Int32Array.from(train)),
    test: selectEvents(log, Int32Array.from(test)),
    heldOut,
  };
}
