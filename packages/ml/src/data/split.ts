import { BadInput } from "@reco/contracts";
import { sortByKey } from "./csr.ts";
import { type InteractionLog, selectEvents } from "./log.ts";
import { seededRandom, shuffleRange } from "./random.ts";

export interface Split {
  train: InteractionLog;
  test: InteractionLog;
}

/**
 * Events grouped by (user, item) pair, so a split never puts one pair on both sides:
 * pairs p of user u are userPairs[u]..userPairs[u+1]); pair p's events are
 * order[pairStart[p]..pairStart[p+1]).
 */
interface PairIndex {
  order: Int32Array;
  pairStart: Int32Array;
  userPairs: Int32Array;
}

function indexPairs(log: InteractionLog): PairIndex {
  const nUsers = log.ids.users.length;
  const all = new Int32Array(log.length);
  for (let n = 0; n < log.length; n++) all[n] = n;
  const order = sortByKey(sortByKey(all, log.item, log.ids.items.length), log.user, nUsers);
  const starts: number[] = [];
  const userPairs = new Int32Array(nUsers + 1);
  for (let k = 0; k < order.length; k++) {
    const p = order[k]!;
    const previous = k > 0 ? order[k - 1]! : -1;
    if (previous < 0 || log.user[previous] !== log.user[p] || log.item[previous] !== log.item[p]) {
      starts.push(k);
      userPairs[log.user[p]! + 1]!++;
    }
  }
  starts.push(order.length);
  for (let u = 0; u < nUsers; u++) userPairs[u + 1]! += userPairs[u]!;
  return { order, pairStart: Int32Array.from(starts), userPairs };
}

function splitByPairs(log: InteractionLog, index: PairIndex, inTest: Uint8Array): Split {
  const train: number[] = [];
  const test: number[] = [];
  for (let p = 0; p + 1 < index.pairStart.length; p++) {
    const side = inTest[p] ? test : train;
    for (let k = index.pairStart[p]!; k < index.pairStart[p + 1]!; k++) side.push(index.order[k]!);
  }
  const sorted = (positions: number[]) => Int32Array.from(positions).sort();
  return { train: selectEvents(log, sorted(train)), test: selectEvents(log, sorted(test)) };
}

/**
 * Per user, a seeded random `testFraction` of the distinct items goes to test (rounded, and
 * never the user's last train item).
 */
export function randomHoldout(log: InteractionLog, options: { testFraction?: number; seed?: number } = {}): Split {
  const fraction = options.testFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new BadInput(`testFraction must be in (0, 1), got ${fraction}`);
  const random = seededRandom(options.seed ?? 42);
  const index = indexPairs(log);
  const nPairs = index.pairStart.length - 1;
  const pairs = new Int32Array(nPairs);
  for (let p = 0; p < nPairs; p++) pairs[p] = p;
  const inTest = new Uint8Array(nPairs);
  for (let u = 0; u + 1 < index.userPairs.length; u++) {
    const start = index.userPairs[u]!;
    const end = index.userPairs[u + 1]!;
    const nTest = Math.min(Math.round((end - start) * fraction), end - start - 1);
    if (nTest <= 0) continue;
    shuffleRange(pairs, start, end, random);
    for (let k = start; k < start + nTest; k++) inTest[pairs[k]!] = 1;
  }
  return splitByPairs(log, index, inTest);
}

function requireTimes(log: InteractionLog): void {
  let missing = 0;
  for (let n = 0; n < log.length; n++) if (Number.isNaN(log.time[n]!)) missing++;
  if (missing > 0) throw new BadInput(`temporal split needs timestamps; ${missing} of ${log.length} events have none`);
}

/**
 * Global time cut: events at or after `cutoff` (seconds) are test. With `testFraction` the cut
 * is the time quantile leaving that fraction of events for test.
 */
export function temporalSplit(log: InteractionLog, options: { cutoff?: number; testFraction?: number }): Split {
  requireTimes(log);
  let cutoff = options.cutoff;
  if (cutoff === undefined) {
    const fraction = options.testFraction ?? 0.2;
    if (!(fraction > 0 && fraction < 1)) throw new BadInput(`testFraction must be in (0, 1), got ${fraction}`);
    const times = Float64Array.from(log.time).sort();
    cutoff = times[Math.min(times.length - 1, Math.floor(times.length * (1 - fraction)))]!;
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let n = 0; n < log.length; n++) (log.time[n]! >= cutoff ? test : train).push(n);
  return { train: selectEvents(log, Int32Array.from(train)), test: selectEvents(log, Int32Array.from(test)) };
}

/** Per user, the `n` distinct items interacted with last go to test (users with more than n items). */
export function leaveLastN(log: InteractionLog, options: { n?: number } = {}): Split {
  const n = options.n ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new BadInput(`leave-last-n needs an integer n ≥ 1, got ${n}`);
  requireTimes(log);
  const index = indexPairs(log);
  const nPairs = index.pairStart.length - 1;
  const lastTime = new Float64Array(nPairs);
  for (let p = 0; p < nPairs; p++) {
    let latest = -Infinity;
    for (let k = index.pairStart[p]!; k < index.pairStart[p + 1]!; k++) latest = Math.max(latest, log.time[index.order[k]!]!);
    lastTime[p] = latest;
  }
  const inTest = new Uint8Array(nPairs);
  for (let u = 0; u + 1 < index.userPairs.length; u++) {
    const start = index.userPairs[u]!;
    const end = index.userPairs[u + 1]!;
    if (end - start <= n) continue;
    const byTime = Array.from({ length: end - start }, (_, k) => start + k).sort(
      (a, b) => lastTime[b]! - lastTime[a]! || b - a,
    );
    for (let k = 0; k < n; k++) inTest[byTime[k]!] = 1;
  }
  return splitByPairs(log, index, inTest);
}
