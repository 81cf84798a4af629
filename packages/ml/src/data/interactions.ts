import type { IdMaps } from "../params.ts";
import { type Csr, sortByKey, transposeCsr } from "./csr.ts";
import type { ItemContent } from "./item-content.ts";
import { type InteractionLog, selectEvents } from "./log.ts";

/**
 * How repeated or rated events of one (user, item) pair become one confidence value:
 * binary → 1; rating → the highest rating (1 for unrated events); count → number of events.
 */
export type ConfidenceMode = "binary" | "rating" | "count";

export interface InteractionOptions {
  /** ratings below this are not positives; unrated events (watch, click) always are */
  threshold?: number;
  confidence?: ConfidenceMode;
}

/** De-duplicated positives as sparse matrices, plus the events they came from. */
export interface Interactions {
  ids: IdMaps;
  nUsers: number;
  nItems: number;
  /** users × items, values = confidence */
  userItems: Csr;
  /** items × users, the transpose */
  itemUsers: Csr;
  /** the positive events (after the threshold), for time- and context-aware models */
  log: InteractionLog;
  /** item metadata in this id space, for content models (absent: none given, e.g. no --items) */
  itemContent?: ItemContent;
}

export function buildInteractions(log: InteractionLog, options: InteractionOptions = {}): Interactions {
  const threshold = options.threshold ?? -Infinity;
  const mode = options.confidence ?? "binary";
  const nUsers = log.ids.users.length;
  const nItems = log.ids.items.length;

  const kept: number[] = [];
  for (let n = 0; n < log.length; n++) {
    const rating = log.rating[n]!;
    if (Number.isNaN(rating) || rating >= threshold) kept.push(n);
  }
  const positives = Int32Array.from(kept);
  // Radix order (user, item): items sorted within each user row, duplicates adjacent.
  const order = sortByKey(sortByKey(positives, log.item, nItems), log.user, nUsers);

  const indptr = new Int32Array(nUsers + 1);
  const indices = new Int32Array(order.length);
  const values = new Float32Array(order.length);
  let nnz = 0;
  let lastUser = -1;
  let lastItem = -1;
  for (let k = 0; k < order.length; k++) {
    const p = order[k]!;
    const u = log.user[p]!;
    const i = log.item[p]!;
    const rating = log.rating[p]!;
    const value = mode === "rating" ? (Number.isNaN(rating) ? 1 : rating) : 1;
    if (u === lastUser && i === lastItem) {
      const at = nnz - 1;
      if (mode === "count") values[at]! += 1;
      else if (mode === "rating") values[at] = Math.max(values[at]!, value);
      continue;
    }
    indices[nnz] = i;
    values[nnz] = value;
    indptr[u + 1]!++;
    nnz++;
    lastUser = u;
    lastItem = i;
  }
  for (let u = 0; u < nUsers; u++) indptr[u + 1]! += indptr[u]!;
  const userItems: Csr = {
    nRows: nUsers,
    nCols: nItems,
    indptr,
    indices: indices.slice(0, nnz),
    values: values.slice(0, nnz),
  };
  return {
    ids: log.ids,
    nUsers,
    nItems,
    userItems,
    itemUsers: transposeCsr(userItems),
    log: positives.length === log.length ? log : selectEvents(log, positives),
  };
}

/** Interactions straight from a user × item CSR (synthetic data, benchmarks). */
export function interactionsFromCsr(userItems: Csr, ids?: IdMaps): Interactions {
  const idMaps = ids ?? {
    users: Array.from({ length: userItems.nRows }, (_, u) => String(u)),
    items: Array.from({ length: userItems.nCols }, (_, i) => String(i)),
  };
  const empty: InteractionLog = {
    ids: idMaps,
    length: 0,
    user: new Int32Array(0),
    item: new Int32Array(0),
    rating: new Float32Array(0),
    time: new Float64Array(0),
    context: {},
  };
  return {
    ids: idMaps,
    nUsers: userItems.nRows,
    nItems: userItems.nCols,
    userItems,
    itemUsers: transposeCsr(userItems),
    log: empty,
  };
}
