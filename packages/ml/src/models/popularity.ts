import type { Interactions } from "../data/interactions.ts";
import type { PopularityParams } from "../params.ts";
import type { Recommender } from "./recommender.ts";
import { contextKey } from "./score.ts";

/** Number of distinct users with the item among their positives. */
function userCounts(train: Interactions): Float32Array {
  const counts = new Float32Array(train.nItems);
  const { indptr } = train.itemUsers;
  for (let i = 0; i < train.nItems; i++) counts[i] = indptr[i + 1]! - indptr[i]!;
  return counts;
}

const idOrder = new Intl.Collator("en", { numeric: true });

/**
 * Items of equal score ordered by ascending item id ("9" before "10"), so a ranking never
 * depends on the order of the rows it was read from (ties otherwise go to the lower index, i.e.
 * the item seen first). Each tied item but the last is lifted by less than half the gap to the
 * next higher score, so the order between different scores is kept and ⌊score⌋ is still the count
 * for integer counts. Published baselines break ties this way (citeulike-t TopPop REC@20 0.0302).
 */
export function breakTiesByItemId(scores: Float32Array, ids: readonly string[]): Float32Array {
  const order = Array.from(scores.keys()).sort(
    (a, b) => scores[b]! - scores[a]! || idOrder.compare(ids[a] ?? "", ids[b] ?? ""),
  );
  const out = scores.slice();
  let start = 0;
  while (start < order.length) {
    const value = scores[order[start]!]!;
    let end = start + 1;
    while (end < order.length && scores[order[end]!] === value) end++;
    const above = start > 0 ? scores[order[start - 1]!]! : value + 1;
    const size = end - start;
    for (let j = 0; j < size; j++) {
      out[order[start + j]!] = value + ((above - value) * 0.5 * (size - 1 - j)) / size;
    }
    start = end;
  }
  return out;
}

/**
 * Per-context tables (device=…, country=…) from the events that carry the context. The global
 * score scaled into [0, 1) is added so that ties, and items never seen in that context, fall
 * back to the global order.
 */
function contextTables(
  train: Interactions,
  global: Float32Array,
  eventWeight: (n: number) => number,
) {
  const tables: Record<string, Float32Array> = {};
  let max = 0;
  for (const value of global) max = Math.max(max, value);
  for (const [name, column] of Object.entries(train.log.context)) {
    const perValue = column.values.map(() => new Float32Array(train.nItems));
    for (let n = 0; n < train.log.length; n++) {
      const code = column.codes[n]!;
      if (code >= 0) perValue[code]![train.log.item[n]!]! += eventWeight(n);
    }
    column.values.forEach((value, code) => {
      const table = perValue[code]!;
      for (let i = 0; i < table.length; i++) table[i]! += global[i]! / (max + 1);
      tables[contextKey(name, value)] = table;
    });
  }
  return tables;
}

export const popularity: Recommender = {
  kind: "popularity",
  summary:
    "most popular items (distinct users; ties by ascending item id), per device/country when events carry them",
  parameters: {},
  async fit(train, _params, hooks): Promise<PopularityParams> {
    const started = performance.now();
    const global = breakTiesByItemId(userCounts(train), train.ids.items);
    const scores = { "": global, ...contextTables(train, global, () => 1) };
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return { kind: "popularity", nItems: train.nItems, scores };
  },
};

export const trending: Recommender = {
  kind: "trending",
  summary:
    "time-decayed popularity: each event weighs 2^(-age/half-life), age from the newest event",
  parameters: {
    halfLifeDays: {
      default: 30,
      min: 0.01,
      max: 36500,
      search: [1, 3650],
      logScale: true,
      help: "half-life of an event's weight, days",
    },
  },
  async fit(train, params, hooks): Promise<PopularityParams> {
    const started = performance.now();
    const { log } = train;
    let newest = -Infinity;
    for (let n = 0; n < log.length; n++) if (log.time[n]! > newest) newest = log.time[n]!;
    const halfLife = params.halfLifeDays! * 86400;
    // Events without a time (or data without any) weigh 1, i.e. plain counts.
    const weight = (n: number): number => {
      const time = log.time[n]!;
      return Number.isNaN(time) || !Number.isFinite(newest)
        ? 1
        : Math.pow(2, -(newest - time) / halfLife);
    };
    const weighted = new Float32Array(train.nItems);
    for (let n = 0; n < log.length; n++) weighted[log.item[n]!]! += weight(n);
    const global = breakTiesByItemId(weighted, train.ids.items);
    const scores = { "": global, ...contextTables(train, global, weight) };
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return { kind: "popularity", nItems: train.nItems, scores };
  },
};
