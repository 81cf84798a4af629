/**
 * Response latencies as counts on a fixed ladder of buckets, four to a doubling: bucket 0 holds
 * latencies ≤ 1 ms, bucket i (1 ≤ i < 64) those in (2^((i−1)/4), 2^(i/4)] ms, bucket 64 everything
 * above 2^(63/4) ms (~55 s). The stream worker counts each minute's responses this way (the SQL
 * below) and the rollout gates add minutes up: counts add, where per-minute percentiles do not
 * (a p99 of 250 responses and one of 5,000 are not comparable, and their mean is no percentile).
 * A bucket spans 19 %: a percentile read from it is its upper bound, at most 19 % above the true one.
 */
export const LATENCY_BUCKETS = 65;

/** The bucket of a latency in ms (the same arithmetic as `latencyBucketSql`). */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.ceil(4 * Math.log2(ms)));
}

/** The bucket of the SQL expression `ms` (DuckDB; null stays null and is not counted). */
export const latencyBucketSql = (ms: string): string =>
  `CASE WHEN ${ms} IS NULL THEN NULL WHEN ${ms} <= 1 THEN 0 ` +
  `ELSE least(${LATENCY_BUCKETS - 1}, CAST(ceil(4 * log2(${ms})) AS INTEGER)) END`;

/** The upper bound of bucket `i` in ms (Infinity for the last). */
export function latencyBucketUpperMs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Infinity : 2 ** (i / 4);
}

/** Adds `counts` into `into` (lengths may differ: missing buckets count 0). */
export function addLatencyCounts(into: number[], counts: readonly number[]): number[] {
  for (let i = 0; i < counts.length; i += 1) into[i] = (into[i] ?? 0) + (counts[i] ?? 0);
  return into;
}

export const latencyTotal = (counts: readonly number[]): number =>
  counts.reduce((sum, c) => sum + (c ?? 0), 0);

/** Responses in buckets above `bucket`, i.e. slower than its upper bound. */
export function countAbove(counts: readonly number[], bucket: number): number {
  let above = 0;
  for (let i = bucket + 1; i < counts.length; i += 1) above += counts[i] ?? 0;
  return above;
}

/**
 * The `q` quantile, interpolated within its bucket on the log scale (the bucket's bounds are a
 * ratio apart, so a log-linear guess is closer than either bound); null without responses.
 */
export function latencyQuantileMs(counts: readonly number[], q: number): number | null {
  const total = latencyTotal(counts);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i += 1) {
    const inBucket = counts[i] ?? 0;
    if (inBucket > 0 && below + inBucket >= rank) {
      if (i === 0) return 1;
      const lower = 2 ** ((i - 1) / 4);
      if (i === LATENCY_BUCKETS - 1) return lower;
      return lower * 2 ** ((rank - below) / inBucket / 4);
    }
    below += inBucket;
  }
  return latencyBucketUpperMs(counts.length - 1);
}

/** The bucket boundary nearest to `ms` (on the log scale): bucket i's upper bound, returned as i. */
export function nearestLatencyBound(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 2, Math.round(4 * Math.log2(ms)));
}

/** Counts without trailing empty buckets (what is stored). */
export function trimLatencyCounts(counts: readonly number[]): number[] {
  let end = counts.length;
  while (end > 0 && !counts[end - 1]) end -= 1;
  return counts.slice(0, end).map((c) => c ?? 0);
}
