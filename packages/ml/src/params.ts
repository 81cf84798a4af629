/**
 * The exchange format between training (models/) and export/serving (onnx/, registry/).
 * Every model kind reduces to one of these parameter shapes; ONNX graphs are built from them and
 * the TypeScript reference scorers compute the same scores from them.
 * Indices are dense (0..nUsers-1, 0..nItems-1); id maps translate to external ids.
 */
export interface IdMaps {
  /** external user id of dense index i */
  users: string[];
  /** external item id of dense index j */
  items: string[];
}

/** Scores = userFactors[u] · itemFactorsᵀ (iALS; fold-in users supply their own vector). */
export interface FactorParams {
  kind: "factors";
  factors: number;
  nUsers: number;
  nItems: number;
  /** row-major nUsers × factors */
  userFactors: Float32Array;
  /** row-major nItems × factors */
  itemFactors: Float32Array;
  /** regularisation used in training, needed for fold-in */
  regularization: number;
  /** confidence alpha used in training, needed for fold-in */
  alpha: number;
}

/**
 * Scores = history(u) · S, where S is a sparse item × item similarity kept as top-k neighbours
 * per item in CSR form (item-kNN, RP3beta).
 */
export interface ItemItemParams {
  kind: "item-item";
  nItems: number;
  /** CSR row pointers, length nItems + 1 */
  indptr: Int32Array;
  /** neighbour item indices */
  indices: Int32Array;
  /** similarity weights */
  weights: Float32Array;
}

/** Scores = a fixed vector per context (popularity, trending); "" is the global context. */
export interface PopularityParams {
  kind: "popularity";
  nItems: number;
  /** context key ("", "device=mobile", "country=FR", …) → scores of length nItems */
  scores: Record<string, Float32Array>;
}

export type ModelParams = FactorParams | ItemItemParams | PopularityParams;
