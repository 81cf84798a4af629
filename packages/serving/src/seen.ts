/**
 * Every item each user interacted with, compactly: item ids are interned once into dense numbers
 * (`ItemDictionary`), and each user holds a sorted `Int32Array` of those numbers (4 bytes per
 * distinct item) plus a short unsorted tail of what arrived since, merged into the array once it
 * grows past `TAIL_MAX`. Membership is a binary search; nothing is ever forgotten, so exclusion
 * holds however long the history (the recent list of `InteractionHistory` is bounded, this is not).
 *
 * The numbers are this process's own, not a model's indices: popularity may answer with items no
 * model knows, and several model versions are served at once; `modelIndices` maps them to one
 * model's indices when scoring.
 */

/** Ids appended after load stay unsorted until this many, then are merged into the sorted array. */
const TAIL_MAX = 32;
const EMPTY = new Int32Array(0);

/** Item id ↔ dense number, shared by all users (one string and one map entry per distinct item). */
export class ItemDictionary {
  private readonly numbers = new Map<string, number>();
  private readonly ids: string[] = [];

  /** The item's number, assigning the next one to an id never seen. */
  intern(itemId: string): number {
    let number = this.numbers.get(itemId);
    if (number === undefined) {
      number = this.ids.length;
      this.numbers.set(itemId, number);
      this.ids.push(itemId);
    }
    return number;
  }

  numberOf(itemId: string): number | undefined {
    return this.numbers.get(itemId);
  }

  /** The (interned) id of a number. */
  idOf(number: number): string {
    return this.ids[number]!;
  }

  get size(): number {
    return this.ids.length;
  }
}

interface UserSeen {
  /** Distinct item numbers, ascending. */
  sorted: Int32Array;
  /** Numbers added since the last merge, none of them in `sorted` nor repeated. */
  tail: number[];
}

/** Whether an ascending array holds `value` (binary search). */
export function contains(sorted: Int32Array, value: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle]!;
    if (at === value) return true;
    if (at < value) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

/** Sorts and de-duplicates `values` into an exactly sized array. */
function sortedDistinct(values: ArrayLike<number>): Int32Array {
  const all = Int32Array.from(values).sort();
  let kept = 0;
  for (let i = 0; i < all.length; i += 1)
    if (i === 0 || all[i] !== all[i - 1]) all[kept++] = all[i]!;
  return kept === all.length ? all : all.slice(0, kept);
}

/** A user's seen items as a membership test (what `Exclusion` and `recentElsewhere` need). */
export interface SeenSet {
  has(itemId: string): boolean;
  readonly size: number;
}

const NOTHING_SEEN: SeenSet = { has: () => false, size: 0 };

/** Every item each user interacted with (see the module comment). */
export class SeenItems {
  private readonly users = new Map<string, UserSeen>();

  constructor(readonly dictionary: ItemDictionary = new ItemDictionary()) {}

  /**
   * Bulk load: per user, the item numbers in any order and with repeats. Replaces what those users
   * held; meant for the start, before any `add`.
   */
  load(byUser: ReadonlyMap<string, ArrayLike<number>>): void {
    for (const [userId, numbers] of byUser)
      this.users.set(userId, { sorted: sortedDistinct(numbers), tail: [] });
  }

  /** Records one interaction; true when the item is new for the user. */
  add(userId: string, itemId: string): boolean {
    const number = this.dictionary.intern(itemId);
    let user = this.users.get(userId);
    if (!user) this.users.set(userId, (user = { sorted: EMPTY, tail: [] }));
    if (contains(user.sorted, number) || user.tail.includes(number)) return false;
    user.tail.push(number);
    if (user.tail.length > TAIL_MAX) {
      const merged = new Int32Array(user.sorted.length + user.tail.length);
      merged.set(user.sorted);
      merged.set(user.tail, user.sorted.length);
      user.sorted = merged.sort();
      user.tail = [];
    }
    return true;
  }

  /** Drops everything held for the user (a deletion); true when there was something. */
  forget(userId: string): boolean {
    return this.users.delete(userId);
  }

  has(userId: string, itemId: string): boolean {
    const user = this.users.get(userId);
    if (!user) return false;
    const number = this.dictionary.numberOf(itemId);
    return number !== undefined && (contains(user.sorted, number) || user.tail.includes(number));
  }

  /** The user's items as a membership test, bound to this structure (not a copy). */
  of(userId: string): SeenSet {
    const user = this.users.get(userId);
    if (!user) return NOTHING_SEEN;
    const { dictionary } = this;
    return {
      has(itemId) {
        const number = dictionary.numberOf(itemId);
        return (
          number !== undefined && (contains(user.sorted, number) || user.tail.includes(number))
        );
      },
      get size() {
        return user.sorted.length + user.tail.length;
      },
    };
  }

  /** How many distinct items the user interacted with. */
  count(userId: string): number {
    const user = this.users.get(userId);
    return user ? user.sorted.length + user.tail.length : 0;
  }

  /**
   * The user's items as indices of a model (`itemIndex`: its id → index map); items it does not
   * know are skipped. The number → index table is built once per model and extended as new items
   * are interned, so a request costs one array read per item.
   */
  modelIndices(userId: string, itemIndex: ReadonlyMap<string, number>): number[] {
    const user = this.users.get(userId);
    const indices: number[] = [];
    if (!user) return indices;
    const table = this.tableFor(itemIndex);
    for (const number of user.sorted) {
      const index = table[number]!;
      if (index >= 0) indices.push(index);
    }
    for (const number of user.tail) {
      const index = table[number]!;
      if (index >= 0) indices.push(index);
    }
    return indices;
  }

  /** Per model: number → its index (-1: unknown), filled for the first `filled` numbers. */
  private readonly tables = new WeakMap<
    ReadonlyMap<string, number>,
    { table: Int32Array; filled: number }
  >();

  private tableFor(itemIndex: ReadonlyMap<string, number>): Int32Array {
    const size = this.dictionary.size;
    let held = this.tables.get(itemIndex);
    if (held && held.filled === size) return held.table;
    if (!held || held.table.length < size) {
      // Grown with room to spare, so items arriving one by one do not copy it each time.
      const table = new Int32Array(held ? Math.max(size, held.table.length * 2) : size);
      if (held) table.set(held.table.subarray(0, held.filled));
      held = { table, filled: held?.filled ?? 0 };
      this.tables.set(itemIndex, held);
    }
    for (let n = held.filled; n < size; n += 1)
      held.table[n] = itemIndex.get(this.dictionary.idOf(n)) ?? -1;
    held.filled = size;
    return held.table;
  }

  /** Users holding at least one item. */
  get userCount(): number {
    return this.users.size;
  }

  /** Distinct (user, item) pairs held. */
  get interactions(): number {
    let total = 0;
    for (const user of this.users.values()) total += user.sorted.length + user.tail.length;
    return total;
  }
}
