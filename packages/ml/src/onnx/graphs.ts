/**
 * ONNX graphs for every parameter kind. All share one contract at the end:
 *   inputs  exclude int64 [batch, n_exclude]  item indices never to return (seen items); rows are
 *                                             padded with -1
 *           k       int64 [1]                 how many items to return (≤ nItems)
 *   outputs scores  float [batch, k]          descending; -inf marks "nothing left" (callers drop it)
 *           items   int64 [batch, k]          item indices (ties broken by lower index, as TopK specifies)
 *
 * Exclusion adds -inf at the excluded positions (ScatterElements, reduction "add"; pads add 0 at
 * index 0), not an additive [batch, nItems] mask input: a request carries O(|history|) numbers
 * instead of O(nItems), and no extra [batch, nItems] copy is made (~10–20% faster at 100k items
 * than padding a sink column; item-item folds it into the scatter that builds its scores).
 */
import type { FactorParams, ItemItemParams, ModelParams, PopularityParams } from "../params.ts";
import {
  type GraphParts,
  type TensorSpec,
  encodeModel,
  int64s,
  node,
  subgraph,
  tensor,
} from "./graph-builder.ts";

const NEG_INF = tensor("neg_inf", [1], new Float32Array([-Infinity]));
const ZERO = tensor("zero", [1], new Float32Array([0]));

const TAIL_INPUTS: TensorSpec[] = [
  { name: "exclude", type: "int64", shape: ["batch", "n_exclude"] },
  { name: "k", type: "int64", shape: [1] },
];
const OUTPUTS: TensorSpec[] = [
  { name: "scores", type: "float", shape: ["batch", "k"] },
  { name: "items", type: "int64", shape: ["batch", "k"] },
];

/** exclude (-1 = pad) → safe indices [batch, E] and updates (-inf, or 0 for pads) [batch, E]. */
const EXCLUSION: Pick<GraphParts, "nodes" | "initializers"> = {
  initializers: [tensor("zero_index", [], BigInt64Array.of(0n))],
  nodes: [
    node("Less", ["exclude", "zero_index"], ["exclude_is_pad"]),
    node("Max", ["exclude", "zero_index"], ["exclude_index"]),
    node("Shape", ["exclude"], ["exclude_shape"]),
    node("ConstantOfShape", ["exclude_shape"], ["exclude_minus_inf"], { value: NEG_INF }),
    node("ConstantOfShape", ["exclude_shape"], ["exclude_zeros"], { value: ZERO }),
    node("Where", ["exclude_is_pad", "exclude_zeros", "exclude_minus_inf"], ["exclude_values"]),
  ],
};

const TOP_K = node("TopK", ["masked_scores", "k"], ["scores", "items"], {
  axis: 1,
  largest: 1,
  sorted: 1,
});

/** scores [batch, nItems] → += -inf at excluded positions → TopK. */
function excludeAndTopK(scores: string): Pick<GraphParts, "nodes" | "initializers"> {
  return {
    initializers: EXCLUSION.initializers,
    nodes: [
      ...EXCLUSION.nodes,
      node("ScatterElements", [scores, "exclude_index", "exclude_values"], ["masked_scores"], {
        axis: 1,
        reduction: "add",
      }),
      TOP_K,
    ],
  };
}

/**
 * iALS: rows = [userFactors[user_index]; user_vectors] (either part may have 0 rows), so known users
 * and fold-in users share one session run; scores = rows · itemFactorsᵀ via Gemm(transB) so the item
 * factors are stored once, untransposed, and fold-in can read them back.
 */
export function factorsGraph(p: FactorParams): GraphParts {
  const tail = excludeAndTopK("raw_scores");
  return {
    name: "reco_factors",
    inputs: [
      { name: "user_index", type: "int64", shape: ["n_known"] },
      { name: "user_vectors", type: "float", shape: ["n_vectors", p.factors] },
      ...TAIL_INPUTS,
    ],
    outputs: OUTPUTS,
    initializers: [
      tensor("user_factors", [p.nUsers, p.factors], p.userFactors),
      tensor("item_factors", [p.nItems, p.factors], p.itemFactors),
      ...tail.initializers,
    ],
    nodes: [
      node("Gather", ["user_factors", "user_index"], ["known_vectors"], { axis: 0 }),
      node("Concat", ["known_vectors", "user_vectors"], ["all_vectors"], { axis: 0 }),
      node("Gemm", ["all_vectors", "item_factors"], ["raw_scores"], { transB: 1 }),
      ...tail.nodes,
    ],
    metadata: {
      kind: p.kind,
      nUsers: String(p.nUsers),
      nItems: String(p.nItems),
      factors: String(p.factors),
    },
  };
}

/** CSR → ELL: every row padded to the longest neighbour list with (index 0, weight 0), which adds nothing. */
export function toPaddedNeighbours(p: ItemItemParams): {
  width: number;
  items: Int32Array;
  weights: Float32Array;
} {
  let width = 1;
  for (let i = 0; i < p.nItems; i++) width = Math.max(width, p.indptr[i + 1]! - p.indptr[i]!);
  const items = new Int32Array(p.nItems * width);
  const weights = new Float32Array(p.nItems * width);
  for (let i = 0; i < p.nItems; i++) {
    const start = p.indptr[i]!;
    const len = p.indptr[i + 1]! - start;
    items.set(p.indices.subarray(start, start + len), i * width);
    weights.set(p.weights.subarray(start, start + len), i * width);
  }
  return { width, items, weights };
}

/**
 * The same similarities by candidate item: for each column t of S its non-zero rows h and S[h, t],
 * padded to the longest column (CSR → CSC → ELL). Top-k kept per candidate (`prune: column`, the
 * default) bounds the columns by k while a popular history item's row can span the catalogue.
 */
export function toPaddedColumns(p: ItemItemParams): {
  width: number;
  items: Int32Array;
  weights: Float32Array;
} {
  const counts = new Int32Array(p.nItems);
  for (let e = 0; e < p.indices.length; e++) counts[p.indices[e]!]!++;
  let width = 1;
  for (let t = 0; t < p.nItems; t++) width = Math.max(width, counts[t]!);
  const items = new Int32Array(p.nItems * width);
  const weights = new Float32Array(p.nItems * width);
  const filled = new Int32Array(p.nItems);
  for (let h = 0; h < p.nItems; h++) {
    for (let e = p.indptr[h]!; e < p.indptr[h + 1]!; e++) {
      const t = p.indices[e]!;
      const slot = t * width + filled[t]!++;
      items[slot] = h;
      weights[slot] = p.weights[e]!;
    }
  }
  return { width, items, weights };
}

/** Above this many bytes of padded rows (int32 index + float32 weight per slot), store columns. */
export const ITEM_ITEM_ROWS_MAX_BYTES = 64 * 2 ** 20;

/**
 * Which layout an item-item graph stores (see itemItemGraph). Padded rows cost O(H · row width) a
 * request (H history items) and are kept while they are small; but pruned per candidate (`prune
 * column`, the default) a popular history item's row spans much of the catalogue (the demo's
 * item-kNN: rows padded to 9,066 × 9,066 slots, 657 MB; columns 9,066 × 150, 11 MB), so past
 * ITEM_ITEM_ROWS_MAX_BYTES the unpadded rows and the padded columns are stored instead.
 */
export function itemItemLayout(
  p: ItemItemParams,
  rowsMaxBytes = ITEM_ITEM_ROWS_MAX_BYTES,
): "rows" | "sparse" {
  let rowWidth = 1;
  for (let i = 0; i < p.nItems; i++) rowWidth = Math.max(rowWidth, p.indptr[i + 1]! - p.indptr[i]!);
  const counts = new Int32Array(p.nItems);
  let columnWidth = 1;
  for (let e = 0; e < p.indices.length; e++)
    columnWidth = Math.max(columnWidth, ++counts[p.indices[e]!]!);
  const rowBytes = p.nItems * rowWidth * 8;
  return rowBytes > rowsMaxBytes && columnWidth < rowWidth ? "sparse" : "rows";
}

const ITEM_ITEM_INPUTS: TensorSpec[] = [
  { name: "history_items", type: "int64", shape: ["batch", "n_history"] },
  { name: "history_weights", type: "float", shape: ["batch", "n_history"] },
  ...TAIL_INPUTS,
];

/** batch_dim: the number of requests, [1], from history_items (needs ZERO_SCORES' initializers). */
const BATCH_DIM = [
  node("Shape", ["history_items"], ["history_shape"]),
  node("Slice", ["history_shape", "batch_start", "batch_end"], ["batch_dim"]),
];

/** A zero [batch, nItems] row per request, shaped from history_items. */
const ZERO_SCORES: Pick<GraphParts, "nodes" | "initializers"> = {
  initializers: [int64s("batch_start", [0]), int64s("batch_end", [1])],
  nodes: [
    ...BATCH_DIM,
    node("Concat", ["batch_dim", "n_items"], ["scores_shape"], { axis: 0 }),
    node("ConstantOfShape", ["scores_shape"], ["zeros"], { value: ZERO }),
  ],
};

/**
 * Item-item (item-kNN, RP3beta, P3alpha, EASE^R's pruned weights): scores = Σ_h w_h · S[h, :],
 * exact, from the sparse top-k of S, stored one of two ways:
 * - rows padded to the longest (ELL), while that is small: gather the neighbour rows of the history
 *   items ([batch, H, width]) and scatter-add the weighted similarities into a zero [batch, nItems]
 *   row — O(batch · H · width);
 * - otherwise both the unpadded rows (CSR) and the columns padded to the longest, and each run takes
 *   the cheaper path for its histories (an `If` on their total row length): reading just the
 *   history's rows, O(Σ row length), or scoring every candidate over its column,
 *   O(batch · nItems · column width). Top-k kept per candidate (`prune column`, the default) keeps
 *   columns short while a popular item's row spans much of the catalogue: rows win for most users
 *   and columns bound the cost of the longest histories.
 * Either way nothing is nItems², where a dense S·MatMul would need nItems² floats (40 GB at 100k).
 */
export function itemItemGraph(p: ItemItemParams, options: ExportOptions = {}): GraphParts {
  return itemItemLayout(p, options.itemItemRowsMaxBytes) === "rows"
    ? itemItemRowsGraph(p)
    : itemItemSparseGraph(p, options.itemItemSegmentCost ?? ITEM_ITEM_SEGMENT_COST);
}

const itemItemMetadata = (p: ItemItemParams, layout: string, width: number) => ({
  kind: p.kind,
  nItems: String(p.nItems),
  layout,
  neighbourWidth: String(width),
});

function itemItemRowsGraph(p: ItemItemParams): GraphParts {
  const ell = toPaddedNeighbours(p);
  return {
    name: "reco_item_item",
    inputs: ITEM_ITEM_INPUTS,
    outputs: OUTPUTS,
    initializers: [
      tensor("neighbour_items", [p.nItems, ell.width], ell.items),
      tensor("neighbour_weights", [p.nItems, ell.width], ell.weights),
      int64s("flat_shape", [0, -1]),
      int64s("n_items", [p.nItems]),
      int64s("weight_axis", [2]),
      ...ZERO_SCORES.initializers,
      ...EXCLUSION.initializers,
    ],
    nodes: [
      node("Gather", ["neighbour_items", "history_items"], ["gathered_items"], { axis: 0 }),
      node("Cast", ["gathered_items"], ["gathered_items_64"], { to: 7 /* INT64 */ }),
      node("Reshape", ["gathered_items_64", "flat_shape"], ["target_items"]),
      node("Gather", ["neighbour_weights", "history_items"], ["gathered_weights"], { axis: 0 }),
      node("Unsqueeze", ["history_weights", "weight_axis"], ["history_weights_3d"]),
      node("Mul", ["gathered_weights", "history_weights_3d"], ["weighted"]),
      node("Reshape", ["weighted", "flat_shape"], ["contributions"]),
      ...ZERO_SCORES.nodes,
      // One scatter-add builds the scores and applies the exclusion (-inf + anything = -inf).
      ...EXCLUSION.nodes,
      node("Concat", ["target_items", "exclude_index"], ["scatter_index"], { axis: 1 }),
      node("Concat", ["contributions", "exclude_values"], ["scatter_values"], { axis: 1 }),
      node("ScatterElements", ["zeros", "scatter_index", "scatter_values"], ["masked_scores"], {
        axis: 1,
        reduction: "add",
      }),
      TOP_K,
    ],
    metadata: itemItemMetadata(p, "rows", ell.width),
  };
}

/**
 * What reading one history-row entry costs, in column slots scored: a run reads rows while its
 * total row length × this is below batch × nItems × column width. Measured on the demo's item-kNN
 * (9,066 items, columns 150 wide, 1.33M entries; onnxruntime 1.30, one thread): 12.7 ms for a
 * history of 696k row entries against 4.0 ms for the columns, 1.1 against 3.9 ms at the median
 * user's 45k, 3.8 against 3.3 ms at 205k; 7 puts the switch near where the two meet (~190k).
 */
export const ITEM_ITEM_SEGMENT_COST = 7;

/**
 * Rows or columns, per run (see itemItemGraph). Reading rows: each request's history items name
 * segments of the row arrays, laid end to end and read position by position. A position's segment
 * is found without a search: a 1 is scattered at each segment's first position and the running
 * sum (CumSum) of those marks counts the segments begun, so an empty segment (a pad, an item
 * without neighbours) just skips a number. Positions are int32 (half the bytes of int64 to move).
 */
function itemItemSparseGraph(p: ItemItemParams, segmentCost: number): GraphParts {
  const columns = toPaddedColumns(p);
  const nnz = p.indptr[p.nItems]!;
  const lengths = new Int32Array(p.nItems);
  for (let i = 0; i < p.nItems; i++) lengths[i] = p.indptr[i + 1]! - p.indptr[i]!;
  const int32s = (name: string, values: number[]) =>
    tensor(name, [values.length], Int32Array.from(values));
  const scalar32 = (name: string, value: number) => tensor(name, [], Int32Array.of(value));
  const filled32 = (value: number) => ({ value: tensor("value", [1], Int32Array.of(value)) });
  const scoresOut = (name: string): TensorSpec[] => [
    { name, type: "float", shape: ["batch", p.nItems] },
  ];
  const tail = excludeAndTopK("raw_scores");

  // Each branch takes the batch size from the input itself: the optimiser cannot rewrite a value
  // the enclosing graph shares with its branches (and says so on every load).
  const readRows = [
    ...BATCH_DIM,
    node("Gather", ["row_starts", "segment_items"], ["segment_rows"], { axis: 0 }),
    node("Sub", ["segment_ends", "segment_lengths"], ["segment_firsts"]),
    // A position p of segment s reads row entry p + (row start of s − first position of s)...
    node("Sub", ["segment_rows", "segment_firsts"], ["segment_shift"]),
    // ...and adds to the scores of request s / width, laid end to end.
    node("Slice", ["history_shape", "ones_long", "twos_long"], ["history_width_64"]),
    node("Cast", ["history_width_64"], ["history_width"], { to: 6 /* INT32 */ }),
    node("Shape", ["segment_items"], ["segments_shape"]),
    node("Cast", ["segments_shape"], ["segments_count_1d"], { to: 6 }),
    node("Squeeze", ["segments_count_1d", "zeros_long"], ["segments_count"]),
    node("Range", ["zero_32", "segments_count", "one_32"], ["segment_index"]),
    node("Div", ["segment_index", "history_width"], ["segment_request"]),
    node("Mul", ["segment_request", "n_items_32"], ["segment_offset"]),
    node("Range", ["zero_32", "total", "one_32"], ["positions"]),
    // marks[q] = how many segments begin at q (one ending the list begins at `total`).
    node("Unsqueeze", ["total", "zeros_long"], ["total_1d"]),
    node("Add", ["total_1d", "ones_32"], ["marks_size"]),
    node("Cast", ["marks_size"], ["marks_shape"], { to: 7 /* INT64 */ }),
    node("ConstantOfShape", ["marks_shape"], ["no_marks"], filled32(0)),
    node("ConstantOfShape", ["segments_shape"], ["segment_ones"], filled32(1)),
    node("ScatterElements", ["no_marks", "segment_firsts", "segment_ones"], ["marks"], {
      axis: 0,
      reduction: "add",
    }),
    node("Slice", ["marks", "zeros_32", "total_1d"], ["position_marks"]),
    node("CumSum", ["position_marks", "zero_32"], ["segments_begun"]),
    node("Sub", ["segments_begun", "one_32"], ["position_segment"]),
    node("Gather", ["segment_shift", "position_segment"], ["position_shift"], { axis: 0 }),
    node("Add", ["positions", "position_shift"], ["entry"]),
    node("Gather", ["row_items", "entry"], ["entry_items"], { axis: 0 }),
    node("Gather", ["segment_offset", "position_segment"], ["position_offset"], { axis: 0 }),
    node("Add", ["entry_items", "position_offset"], ["targets"]),
    node("Gather", ["row_weights", "entry"], ["entry_weights"], { axis: 0 }),
    node("Gather", ["segment_weights", "position_segment"], ["position_weight"], { axis: 0 }),
    node("Mul", ["entry_weights", "position_weight"], ["contributions"]),
    node("Mul", ["batch_dim", "n_items"], ["flat_scores_shape"]),
    node("ConstantOfShape", ["flat_scores_shape"], ["flat_zeros"], { value: ZERO }),
    node("ScatterElements", ["flat_zeros", "targets", "contributions"], ["flat_scores"], {
      axis: 0,
      reduction: "add",
    }),
    node("Concat", ["batch_dim", "n_items"], ["scores_shape"], { axis: 0 }),
    node("Reshape", ["flat_scores", "scores_shape"], ["row_scores"]),
  ];
  const scoreColumns = [
    ...ZERO_SCORES.nodes,
    // x[b, h] = Σ of the weights of h in request b's history (pads: item 0, weight 0).
    node("ScatterElements", ["zeros", "history_items", "history_weights"], ["history_vector"], {
      axis: 1,
      reduction: "add",
    }),
    // [batch, nItems, width]: for each candidate, the history weight of each of its rows.
    node("Gather", ["history_vector", "column_items"], ["column_history"], { axis: 1 }),
    node("Mul", ["column_history", "column_weights"], ["column_terms"]),
    node("ReduceSum", ["column_terms", "twos_long"], ["column_scores"], { keepdims: 0 }),
  ];
  return {
    name: "reco_item_item",
    inputs: ITEM_ITEM_INPUTS,
    outputs: OUTPUTS,
    initializers: [
      tensor("row_starts", [p.nItems], p.indptr.subarray(0, p.nItems)),
      tensor("row_lengths", [p.nItems], lengths),
      tensor("row_items", [nnz], p.indices.subarray(0, nnz)),
      tensor("row_weights", [nnz], p.weights.subarray(0, nnz)),
      tensor("column_items", [p.nItems, columns.width], columns.items),
      tensor("column_weights", [p.nItems, columns.width], columns.weights),
      int64s("n_items", [p.nItems]),
      int32s("n_items_32", [p.nItems]),
      int64s("column_slots", [p.nItems * columns.width]),
      int64s("segment_cost", [segmentCost]),
      int64s("flat", [-1]),
      int64s("zeros_long", [0]),
      int64s("ones_long", [1]),
      int64s("twos_long", [2]),
      scalar32("zero_32", 0),
      scalar32("one_32", 1),
      int32s("ones_32", [1]),
      int32s("zeros_32", [0]),
      tensor("zero_weight", [], Float32Array.of(0)),
      ...ZERO_SCORES.initializers,
      ...tail.initializers,
    ],
    nodes: [
      // One segment per (request, history slot), row-major; weight 0 (pads) reads nothing.
      node("Reshape", ["history_items", "flat"], ["segment_items_64"]),
      node("Cast", ["segment_items_64"], ["segment_items"], { to: 6 /* INT32 */ }),
      node("Reshape", ["history_weights", "flat"], ["segment_weights"]),
      node("Gather", ["row_lengths", "segment_items"], ["segment_full_lengths"], { axis: 0 }),
      node("Equal", ["segment_weights", "zero_weight"], ["segment_is_pad"]),
      node("Where", ["segment_is_pad", "zero_32", "segment_full_lengths"], ["segment_lengths"]),
      node("CumSum", ["segment_lengths", "zero_32"], ["segment_ends"]),
      node("ReduceSum", ["segment_lengths"], ["total"], { keepdims: 0 }),
      // Rows when total · cost < batch · nItems · column width.
      node("Shape", ["history_items"], ["request_shape"]),
      node("Slice", ["request_shape", "zeros_long", "ones_long"], ["requests"]),
      node("Cast", ["total"], ["total_64"], { to: 7 }),
      node("Mul", ["total_64", "segment_cost"], ["rows_cost"]),
      node("Mul", ["requests", "column_slots"], ["columns_cost"]),
      node("Less", ["rows_cost", "columns_cost"], ["read_rows_1d"]),
      node("Squeeze", ["read_rows_1d", "zeros_long"], ["read_rows"]),
      node("If", ["read_rows"], ["raw_scores"], {
        then_branch: subgraph("read_rows", readRows, scoresOut("row_scores")),
        else_branch: subgraph("score_columns", scoreColumns, scoresOut("column_scores")),
      }),
      ...tail.nodes,
    ],
    metadata: itemItemMetadata(p, "rows or columns per run", columns.width),
  };
}

/** Popularity: a [contexts, nItems] table; each request picks its context row. */
export function popularityGraph(p: PopularityParams, contexts: string[]): GraphParts {
  const table = new Float32Array(contexts.length * p.nItems);
  contexts.forEach((c, row) => table.set(p.scores[c]!, row * p.nItems));
  const tail = excludeAndTopK("raw_scores");
  return {
    name: "reco_popularity",
    inputs: [{ name: "context", type: "int64", shape: ["batch"] }, ...TAIL_INPUTS],
    outputs: OUTPUTS,
    initializers: [
      tensor("context_scores", [contexts.length, p.nItems], table),
      ...tail.initializers,
    ],
    nodes: [
      node("Gather", ["context_scores", "context"], ["raw_scores"], { axis: 0 }),
      ...tail.nodes,
    ],
    metadata: { kind: p.kind, nItems: String(p.nItems), contexts: String(contexts.length) },
  };
}

/** Context rows in a stable order, the global context "" first (the fallback for unknown contexts). */
export function popularityContexts(p: PopularityParams): string[] {
  const keys = Object.keys(p.scores).sort();
  if (!keys.includes("")) throw new Error('popularity params need a global "" context');
  return ["", ...keys.filter((k) => k !== "")];
}

export interface ExportedGraph {
  bytes: Uint8Array;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** popularity only: context key of each row */
  contexts?: string[];
}

export interface ExportOptions {
  /** item-item: the padded rows' size above which columns are stored (tests lower it) */
  itemItemRowsMaxBytes?: number;
  /** item-item by rows or columns: see ITEM_ITEM_SEGMENT_COST (tests force either path) */
  itemItemSegmentCost?: number;
}

export function exportOnnx(params: ModelParams, options: ExportOptions = {}): ExportedGraph {
  validateParams(params);
  const contexts = params.kind === "popularity" ? popularityContexts(params) : undefined;
  const parts =
    params.kind === "factors"
      ? factorsGraph(params)
      : params.kind === "item-item"
        ? itemItemGraph(params, options)
        : popularityGraph(params, contexts!);
  return { bytes: encodeModel(parts), inputs: parts.inputs, outputs: parts.outputs, contexts };
}

/** Shapes must agree before export: a wrong length would silently shift every row of a table. */
export function validateParams(p: ModelParams): void {
  const fail = (what: string) => {
    throw new Error(`invalid ${p.kind} params: ${what}`);
  };
  if (!(p.nItems > 0)) fail(`nItems must be > 0, got ${p.nItems}`);
  if (p.kind === "factors") {
    if (p.userFactors.length !== p.nUsers * p.factors)
      fail("userFactors length ≠ nUsers × factors");
    if (p.itemFactors.length !== p.nItems * p.factors)
      fail("itemFactors length ≠ nItems × factors");
    if (!p.itemFactors.every(Number.isFinite) || !p.userFactors.every(Number.isFinite))
      fail("factors contain NaN/∞");
  } else if (p.kind === "item-item") {
    if (p.indptr.length !== p.nItems + 1) fail("indptr length ≠ nItems + 1");
    const nnz = p.indptr[p.nItems]!;
    if (p.indices.length !== nnz || p.weights.length !== nnz)
      fail("indices/weights length ≠ indptr[nItems]");
    if (!p.indices.every((j) => j >= 0 && j < p.nItems)) fail("neighbour index out of range");
    if (!p.weights.every(Number.isFinite)) fail("weights contain NaN/∞");
  } else {
    for (const [ctx, s] of Object.entries(p.scores)) {
      if (s.length !== p.nItems) fail(`scores[${JSON.stringify(ctx)}] length ≠ nItems`);
      if (!s.every(Number.isFinite)) fail(`scores[${JSON.stringify(ctx)}] contain NaN/∞`);
    }
  }
}
