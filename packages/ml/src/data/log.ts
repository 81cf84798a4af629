import type { IdMaps } from "../params.ts";

/** A categorical column per event (device, country…): a code per event, -1 when absent. */
export interface ContextColumn {
  codes: Int32Array;
  values: string[];
}

/**
 * Raw interaction events with dense indices, before de-duplication: what loaders produce and
 * splits partition. Columns are parallel typed arrays of length `length`.
 */
export interface InteractionLog {
  ids: IdMaps;
  length: number;
  user: Int32Array;
  item: Int32Array;
  /** explicit rating, NaN when the event carries none (watch, click, two-column rows) */
  rating: Float32Array;
  /** event time in seconds since the epoch, NaN when unknown */
  time: Float64Array;
  /** context columns by name ("device", "country") when the source carries them */
  context: Record<string, ContextColumn>;
}

class Dictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  constructor(initial: readonly string[] = []) {
    for (const value of initial) this.code(value);
  }
  code(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.index.set(value, code);
    }
    return code;
  }
  find(value: string): number | undefined {
    return this.index.get(value);
  }
}

/** Appends events with growable typed columns and builds the id dictionaries on the way. */
export class LogBuilder {
  private users: Dictionary;
  private items: Dictionary;
  private readonly contexts = new Map<string, { dictionary: Dictionary; codes: Int32Array }>();
  private capacity = 1024;
  length = 0;
  private user = new Int32Array(this.capacity);
  private item = new Int32Array(this.capacity);
  private rating = new Float32Array(this.capacity);
  private time = new Float64Array(this.capacity);

  constructor(ids?: IdMaps) {
    this.users = new Dictionary(ids?.users);
    this.items = new Dictionary(ids?.items);
  }

  add(userId: string, itemId: string, rating: number, time: number, context?: Record<string, string | null>): void {
    if (this.length === this.capacity) this.grow();
    const n = this.length++;
    this.user[n] = this.users.code(userId);
    this.item[n] = this.items.code(itemId);
    this.rating[n] = rating;
    this.time[n] = time;
    if (context) {
      for (const [name, value] of Object.entries(context)) {
        const column = this.contextColumn(name);
        column.codes[n] = value === null || value === "" ? -1 : column.dictionary.code(value);
      }
    }
  }

  private contextColumn(name: string): { dictionary: Dictionary; codes: Int32Array } {
    let column = this.contexts.get(name);
    if (!column) {
      column = { dictionary: new Dictionary(), codes: new Int32Array(this.capacity).fill(-1) };
      this.contexts.set(name, column);
    }
    return column;
  }

  private grow(): void {
    this.capacity *= 2;
    const grow = <T extends Int32Array | Float32Array | Float64Array>(old: T, fill = 0): T => {
      const next = new (old.constructor as new (n: number) => T)(this.capacity);
      next.set(old);
      if (fill !== 0) next.fill(fill, old.length);
      return next;
    };
    this.user = grow(this.user);
    this.item = grow(this.item);
    this.rating = grow(this.rating);
    this.time = grow(this.time);
    for (const column of this.contexts.values()) column.codes = grow(column.codes, -1);
  }

  finish(): InteractionLog {
    const n = this.length;
    const context: Record<string, ContextColumn> = {};
    for (const [name, column] of this.contexts) {
      context[name] = { codes: column.codes.slice(0, n), values: column.dictionary.values };
    }
    return {
      ids: { users: this.users.values, items: this.items.values },
      length: n,
      user: this.user.slice(0, n),
      item: this.item.slice(0, n),
      rating: this.rating.slice(0, n),
      time: this.time.slice(0, n),
      context,
    };
  }
}

/** The events at `positions`, keeping the same id maps (so train and test share indices). */
export function selectEvents(log: InteractionLog, positions: Int32Array): InteractionLog {
  const n = positions.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const rating = new Float32Array(n);
  const time = new Float64Array(n);
  const context: Record<string, ContextColumn> = {};
  for (const name of Object.keys(log.context)) {
    context[name] = { codes: new Int32Array(n), values: log.context[name]!.values };
  }
  for (let k = 0; k < n; k++) {
    const p = positions[k]!;
    user[k] = log.user[p]!;
    item[k] = log.item[p]!;
    rating[k] = log.rating[p]!;
    time[k] = log.time[p]!;
    for (const name in context) context[name]!.codes[k] = log.context[name]!.codes[p]!;
  }
  return { ids: log.ids, length: n, user, item, rating, time, context };
}

export interface AlignmentReport {
  /** distinct users of the other log absent from the reference ids */
  unseenUsers: number;
  /** distinct items of the other log absent from the reference ids */
  unseenItems: number;
  /** events dropped because their user or item is unseen */
  droppedEvents: number;
}

/**
 * Re-expresses `other` (e.g. a test file) in the dense indices of `ids` (the train set's);
 * events naming unseen users or items cannot be scored, so they are dropped and counted.
 * `unseenItems` keeps the events of known users whose item is unseen (users in `ids`' indices,
 * items in a list of their own): the evaluation counts them as misses under the field protocol.
 */
export function alignToIds(
  other: InteractionLog,
  ids: IdMaps,
): { log: InteractionLog; unseenItems: InteractionLog; report: AlignmentReport } {
  const users = new Dictionary(ids.users);
  const items = new Dictionary(ids.items);
  const userMap = other.ids.users.map((id) => users.find(id) ?? -1);
  const itemMap = other.ids.items.map((id) => items.find(id) ?? -1);
  const usedUsers = new Uint8Array(userMap.length);
  const usedItems = new Uint8Array(itemMap.length);
  const keep: number[] = [];
  const unseenItemEvents: number[] = [];
  for (let n = 0; n < other.length; n++) {
    const u = other.user[n]!;
    const i = other.item[n]!;
    usedUsers[u] = 1;
    usedItems[i] = 1;
    if (userMap[u]! >= 0 && itemMap[i]! >= 0) keep.push(n);
    else if (userMap[u]! >= 0) unseenItemEvents.push(n);
  }
  const unseenItemIds = new Dictionary();
  const unseen = selectEvents(other, Int32Array.from(unseenItemEvents));
  for (let k = 0; k < unseen.length; k++) {
    unseen.user[k] = userMap[unseen.user[k]!]!;
    unseen.item[k] = unseenItemIds.code(other.ids.items[unseen.item[k]!]!);
  }
  const count = (used: Uint8Array, map: number[]): number => map.filter((m, k) => m < 0 && used[k]).length;
  const selected = selectEvents(other, Int32Array.from(keep));
  for (let k = 0; k < selected.length; k++) {
    selected.user[k] = userMap[selected.user[k]!]!;
    selected.item[k] = itemMap[selected.item[k]!]!;
  }
  return {
    log: { ...selected, ids },
    unseenItems: { ...unseen, ids: { users: ids.users, items: unseenItemIds.values } },
    report: {
      unseenUsers: count(usedUsers, userMap),
      unseenItems: count(usedItems, itemMap),
      droppedEvents: other.length - keep.length,
    },
  };
}
