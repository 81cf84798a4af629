/** The k best entries of a score vector, best first; ties go to the lower index. */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * Bounded min-heap selection over typed arrays: O(n log k), no per-element objects.
 * Entries equal to -Infinity or NaN are never selected (that is how exclusion is expressed).
 */
export function topK(
  scores: ArrayLike<number>,
  k: number,
  candidates?: ArrayLike<number>,
  count?: number,
): Ranked {
  const heapScore = new Float64Array(Math.max(k, 0));
  const heapItem = new Int32Array(Math.max(k, 0));
  let size = 0;
  // "a worse than b": lower score, or same score and higher index
  const worse = (sa: number, ia: number, sb: number, ib: number): boolean =>
    sa < sb || (sa === sb && ia > ib);
  const siftDown = (from: number): void => {
    let at = from;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= size) return;
      const right = left + 1;
      let child = left;
      if (
        right < size &&
        worse(heapScore[right]!, heapItem[right]!, heapScore[left]!, heapItem[left]!)
      )
        child = right;
      if (!worse(heapScore[child]!, heapItem[child]!, heapScore[at]!, heapItem[at]!)) return;
      const s = heapScore[at]!;
      const i = heapItem[at]!;
      heapScore[at] = heapScore[child]!;
      heapItem[at] = heapItem[child]!;
      heapScore[child] = s;
      heapItem[child] = i;
      at = child;
    }
  };
  const n = candidates ? (count ?? candidates.length) : scores.length;
  for (let c = 0; c < n && k > 0; c++) {
    const item = candidates ? candidates[c]! : c;
    const score = scores[item]!;
    if (!(score > -Infinity)) continue;
    if (size < k) {
      let at = size++;
      heapScore[at] = score;
      heapItem[at] = item;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(heapScore[at]!, heapItem[at]!, heapScore[parent]!, heapItem[parent]!)) break;
        const s = heapScore[at]!;
        const i = heapItem[at]!;
        heapScore[at] = heapScore[parent]!;
        heapItem[at] = heapItem[parent]!;
        heapScore[parent] = s;
        heapItem[parent] = i;
        at = parent;
      }
    } else if (worse(heapScore[0]!, heapItem[0]!, score, item)) {
      heapScore[0] = score;
      heapItem[0] = item;
      siftDown(0);
    }
  }
  const items = new Int32Array(size);
  const out = new Float32Array(size);
  for (let at = size - 1; at >= 0; at--) {
    items[at] = heapItem[0]!;
    out[at] = heapScore[0]!;
    heapScore[0] = heapScore[size - 1]!;
    heapItem[0] = heapItem[size - 1]!;
    size--;
    siftDown(0);
  }
  return { items, scores: out };
}
