/** Metrics at one cut-off K, averaged over the evaluated users (coverage is over the catalogue). */
export interface MetricsAtK {
  precision: number;
  /** hits / |test items| */
  recall: number;
  /** hits / min(K, |test items|) */
  recall_capped: number;
  ndcg: number;
  map: number;
  hit_rate: number;
  /** distinct items recommended in anyone's top-K / catalogue size */
  coverage: number;
}

export const METRIC_NAMES = [
  "precision",
  "recall",
  "recall_capped",
  "ndcg",
  "map",
  "hit_rate",
  "coverage",
] as const;

/** Running sums for one K. */
export class MetricAccumulator {
  private users = 0;
  private sums = { precision: 0, recall: 0, recall_capped: 0, ndcg: 0, map: 0, hit_rate: 0 };
  private readonly recommended: Uint8Array;

  constructor(
    readonly k: number,
    private readonly catalogueSize: number,
  ) {
    this.recommended = new Uint8Array(catalogueSize);
  }

  /**
   * One user: `ranked` best first (may be shorter than K), `relevant(item)` tells test items,
   * `nRelevant` ≥ 1 is |test items|.
   */
  add(ranked: Int32Array, isRelevant: (item: number) => boolean, nRelevant: number): void {
    const depth = Math.min(this.k, ranked.length);
    let hits = 0;
    let dcg = 0;
    let precisionSum = 0;
    for (let rank = 0; rank < depth; rank++) {
      const item = ranked[rank]!;
      this.recommended[item] = 1;
      if (isRelevant(item)) {
        hits++;
        dcg += 1 / Math.log2(rank + 2);
        precisionSum += hits / (rank + 1);
      }
    }
    const ideal = Math.min(this.k, nRelevant);
    let idcg = 0;
    for (let rank = 0; rank < ideal; rank++) idcg += 1 / Math.log2(rank + 2);
    this.users++;
    this.sums.precision += hits / this.k;
    this.sums.recall += hits / nRelevant;
    this.sums.recall_capped += hits / ideal;
    this.sums.ndcg += dcg / idcg;
    this.sums.map += precisionSum / ideal;
    this.sums.hit_rate += hits > 0 ? 1 : 0;
  }

  result(): MetricsAtK {
    const n = this.users || 1;
    let covered = 0;
    for (const flag of this.recommended) covered += flag;
    return {
      precision: this.sums.precision / n,
      recall: this.sums.recall / n,
      recall_capped: this.sums.recall_capped / n,
      ndcg: this.sums.ndcg / n,
      map: this.sums.map / n,
      hit_rate: this.sums.hit_rate / n,
      coverage: this.catalogueSize > 0 ? covered / this.catalogueSize : 0,
    };
  }
}
