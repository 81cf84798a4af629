import { endianness } from "node:os";
/**
 * Batched inference over an exported graph with onnxruntime-node. Requests name a user (index into
 * the training data), bring a user vector (fold-in done elsewhere), or bring a history of item
 * indices; everything a user has seen (their training history, the given history, `exclude`) is
 * never returned.
 */
import { BadInput, disableOnnxRuntimeTelemetry } from "@reco/contracts";
import * as ort from "onnxruntime-node";
import type { Csr } from "../data/csr.ts";
import type { ModelParams } from "../params.ts";
import type { Ranked, ScoringInput } from "./reference.ts";

export interface RecommendRequest {
  /** a user of the training data (dense index) */
  userIndex?: number;
  /** factors models: a user vector, e.g. solved by fold-in */
  userVector?: ArrayLike<number>;
  /** recent item indices: item-item input, fold-in input for factor models */
  historyIndices?: number[];
  /** optional weight per history item (default 1) */
  historyWeights?: number[];
  /**
   * popularity models: a context key ("device=mobile") or attributes ({device: "mobile"}, first
   * one with a table wins); unknown → the global row
   */
  context?: string | Record<string, string | undefined>;
  /** further item indices never to return */
  exclude?: ArrayLike<number>;
}

export type Recommendation = Ranked;

export interface Scorer {
  readonly kind: ModelParams["kind"];
  readonly nItems: number;
  recommend(batch: RecommendRequest[], k: number): Promise<Recommendation[]>;
  /** frees the native session; the scorer is unusable afterwards */
  release(): Promise<void>;
}

export interface ScorerSource extends ScoringSource {
  modelBytes: Uint8Array;
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/** What a scorer needs of its source once the session is made. */
export interface ScoringSource {
  kind: ModelParams["kind"];
  nItems: number;
  /** factors: number of known users and the vector width */
  nUsers?: number;
  factors?: number;
  /** popularity: context key of each row of the table */
  contexts?: string[];
  /** users × items training interactions: seen items, and the history of item-item users */
  trainHistory?: Csr;
  /** factors: solves a user vector from a history (needed for historyIndices requests) */
  foldIn?: (items: number[], weights: number[]) => Float32Array;
}

/** How one request is fed to the graph (and to the reference scorer in tests). */
export interface ResolvedRequest {
  input: ScoringInput | { kind: "factors"; userIndex: number };
  exclude: number[];
}

function checkItems(what: string, items: number[], nItems: number): void {
  for (const j of items) {
    if (!Number.isInteger(j) || j < 0 || j >= nItems) {
      throw new BadInput(`${what}: item index ${j} is outside 0..${nItems - 1}`);
    }
  }
}

function historyOf(csr: Csr | undefined, user: number): { items: number[]; weights: number[] } {
  if (!csr || user >= csr.nRows) return { items: [], weights: [] };
  const start = csr.indptr[user]!;
  const end = csr.indptr[user + 1]!;
  return {
    items: Array.from(csr.indices.subarray(start, end)),
    weights: Array.from(csr.values.subarray(start, end)),
  };
}

let marks = new Uint8Array(0);

/**
 * Keeps each index once, in order of first appearance. Serving's excludes already hold the training
 * history added to them here, and the exclusion matrix is padded to a batch's widest row: each
 * duplicate widened every row of the batch (measured below in bench/serve/README.md).
 */
function distinctInPlace(indices: number[], nItems: number): void {
  if (marks.length < nItems) marks = new Uint8Array(nItems);
  let kept = 0;
  for (let i = 0; i < indices.length; i += 1) {
    const j = indices[i]!;
    if (marks[j] === 0) {
      marks[j] = 1;
      indices[kept++] = j;
    }
  }
  indices.length = kept;
  for (let i = 0; i < kept; i += 1) marks[indices[i]!] = 0;
}

export function resolveRequest(
  src: ScoringSource,
  req: RecommendRequest,
  at: number,
): ResolvedRequest {
  const where = `request ${at}`;
  const exclude = req.exclude ? Array.from(req.exclude) : [];
  let history = { items: req.historyIndices ?? [], weights: req.historyWeights ?? [] };
  if (req.historyWeights && req.historyWeights.length !== history.items.length) {
    throw new BadInput(
      `${where}: historyWeights has ${req.historyWeights.length} entries for ${history.items.length} items`,
    );
  }
  if (!req.historyWeights) history.weights = history.items.map(() => 1);
  if (req.userIndex !== undefined) {
    const nUsers = src.trainHistory?.nRows ?? src.nUsers ?? 0;
    if (!Number.isInteger(req.userIndex) || req.userIndex < 0 || req.userIndex >= nUsers) {
      throw new BadInput(`${where}: userIndex ${req.userIndex} is outside 0..${nUsers - 1}`);
    }
    const csr = src.trainHistory;
    if (csr && req.userIndex < csr.nRows) {
      // Pushed one by one: a spread or Array.from of a few hundred indices per request adds up.
      const start = csr.indptr[req.userIndex]!;
      const end = csr.indptr[req.userIndex + 1]!;
      for (let j = start; j < end; j += 1) exclude.push(csr.indices[j]!);
      // Only item-item scores from the history; for the others it would only repeat `exclude`.
      if (!req.historyIndices && src.kind === "item-item") history = historyOf(csr, req.userIndex);
    }
  }
  checkItems(`${where} historyIndices`, history.items, src.nItems);
  checkItems(`${where} exclude`, exclude, src.nItems);
  exclude.push(...history.items);
  distinctInPlace(exclude, src.nItems);

  if (src.kind === "factors") {
    if (req.userVector) {
      if (req.userVector.length !== src.factors) {
        throw new BadInput(
          `${where}: userVector has ${req.userVector.length} values, the model has ${src.factors} factors`,
        );
      }
      return { input: { kind: "factors", vector: req.userVector }, exclude };
    }
    if (req.userIndex !== undefined && req.historyIndices === undefined) {
      return { input: { kind: "factors", userIndex: req.userIndex }, exclude };
    }
    if (req.historyIndices) {
      if (!src.foldIn)
        throw new BadInput(`${where}: this scorer has no fold-in for history requests`);
      return {
        input: { kind: "factors", vector: src.foldIn(history.items, history.weights) },
        exclude,
      };
    }
    throw new BadInput(`${where}: a factors model needs userIndex, userVector or historyIndices`);
  }
  if (src.kind === "item-item") {
    if (req.userVector)
      throw new BadInput(`${where}: an item-item model takes a history, not a userVector`);
    return {
      input: { kind: "item-item", history: history.items, weights: history.weights },
      exclude,
    };
  }
  return {
    input: { kind: "popularity", context: pickContext(req.context, src.contexts ?? []) },
    exclude,
  };
}

function pickContext(context: RecommendRequest["context"], known: string[]): string {
  if (context === undefined) return "";
  const keys =
    typeof context === "string"
      ? [context]
      : Object.entries(context).flatMap(([name, value]) =>
          value === undefined ? [] : [`${name}=${value}`],
        );
  return keys.find((key) => known.includes(key)) ?? "";
}

const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Rows of int32-range integers as an int64 matrix padded with `pad`. On little-endian machines each
 * value is written as two int32 halves: a BigInt per element costs more than the rest of a request.
 */
function int64Matrix(rows: ArrayLike<number>[], pad: number, minWidth = 0): ort.Tensor {
  let width = minWidth;
  for (const row of rows) if (row.length > width) width = row.length;
  const data = new BigInt64Array(rows.length * width);
  if (LITTLE_ENDIAN) {
    const halves = new Int32Array(data.buffer);
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i]!;
      for (let c = 0; c < width; c += 1) {
        const value = c < row.length ? row[c]! : pad;
        const at = 2 * (i * width + c);
        halves[at] = value;
        halves[at + 1] = value < 0 ? -1 : 0;
      }
    }
  } else {
    data.fill(BigInt(pad));
    rows.forEach((r, i) => Array.from(r).forEach((v, c) => (data[i * width + c] = BigInt(v))));
  }
  return new ort.Tensor("int64", data, [rows.length, width]);
}

function floatMatrix(rows: ArrayLike<number>[], width: number): ort.Tensor {
  const data = new Float32Array(rows.length * width);
  rows.forEach((r, i) => data.set(Array.from(r), i * width));
  return new ort.Tensor("float32", data, [rows.length, width]);
}

/** Builds the feeds for one batch; returns the row order the graph will produce. */
function feedsFor(
  src: ScoringSource,
  resolved: ResolvedRequest[],
  k: number,
): { feeds: Record<string, ort.Tensor>; order: number[] } {
  const kTensor = new ort.Tensor("int64", BigInt64Array.of(BigInt(k)), [1]);
  let order = resolved.map((_, i) => i);
  const feeds: Record<string, ort.Tensor> = { k: kTensor };
  if (src.kind === "factors") {
    // The graph stacks gathered known users before explicit vectors.
    const known = order.filter((i) => "userIndex" in resolved[i]!.input);
    const vectors = order.filter((i) => !("userIndex" in resolved[i]!.input));
    order = [...known, ...vectors];
    const idx = known.map((i) => BigInt((resolved[i]!.input as { userIndex: number }).userIndex));
    feeds.user_index = new ort.Tensor("int64", BigInt64Array.from(idx), [idx.length]);
    feeds.user_vectors = floatMatrix(
      vectors.map((i) => (resolved[i]!.input as { vector: ArrayLike<number> }).vector),
      src.factors!,
    );
  } else if (src.kind === "item-item") {
    const inputs = resolved.map((r) => r.input as Extract<ScoringInput, { kind: "item-item" }>);
    // At least one slot: a run whose histories are all empty divides by the history width (a
    // pad — item 0, weight 0 — reads nothing either way).
    feeds.history_items = int64Matrix(
      inputs.map((x) => x.history),
      0,
      1,
    );
    const width = feeds.history_items.dims[1]!;
    feeds.history_weights = floatMatrix(
      inputs.map((x) => Array.from(x.weights)),
      width,
    );
  } else {
    const rows = resolved.map((r) =>
      src.contexts!.indexOf((r.input as { context: string }).context),
    );
    feeds.context = new ort.Tensor(
      "int64",
      BigInt64Array.from(rows.map((r) => BigInt(Math.max(r, 0)))),
      [rows.length],
    );
  }
  feeds.exclude = int64Matrix(
    order.map((i) => resolved[i]!.exclude),
    -1,
  );
  return { feeds, order };
}

/**
 * Item-item graphs do no matrix product a batch could share, and their temporaries grow with the
 * batch: by columns [batch, nItems, width] floats (the demo's item-kNN: 5.4 MB a request), by rows
 * several numbers per row entry read. Each request runs alone: it chooses rows or columns for its
 * own history, and the process holds one request's temporaries at a time. Measured on the demo's
 * item-kNN (200 batches of 1–16 known users, three interleaved rounds): runs of 1, 2, 4 took the
 * same time per batch (35–37 ms), and left RSS +20 / +40 / +55 MB above the loaded sessions, with
 * peaks +50 / +70 / +95 MB (glibc keeps what the larger runs freed).
 */
const ITEM_ITEM_REQUESTS_PER_RUN = 1;

export async function createOnnxScorer(source: ScorerSource): Promise<Scorer> {
  disableOnnxRuntimeTelemetry();
  const session = await ort.InferenceSession.create(source.modelBytes, source.sessionOptions ?? {});
  // The session holds its own copy of the weights: the file's bytes (the model's whole size) are
  // not kept beside it.
  const { modelBytes: _loaded, sessionOptions: _options, ...src } = source;
  let released = false;
  const scorer: Scorer = {
    kind: src.kind,
    nItems: src.nItems,
    async recommend(batch, k) {
      if (released) throw new Error("scorer was released");
      if (!Number.isInteger(k) || k < 1)
        throw new BadInput(`k must be a positive integer, got ${k}`);
      if (batch.length === 0) return [];
      const requestsPerRun = src.kind === "item-item" ? ITEM_ITEM_REQUESTS_PER_RUN : batch.length;
      if (batch.length > requestsPerRun) {
        const parts: Recommendation[] = [];
        for (let start = 0; start < batch.length; start += requestsPerRun)
          parts.push(...(await scorer.recommend(batch.slice(start, start + requestsPerRun), k)));
        return parts;
      }
      const resolved = batch.map((req, i) => resolveRequest(src, req, i));
      const kk = Math.min(k, src.nItems);
      const { feeds, order } = feedsFor(src, resolved, kk);
      const out = await session.run(feeds);
      const scores = out.scores!.data as Float32Array;
      const items = out.items!.data as BigInt64Array;
      const width = out.scores!.dims[1]!;
      const results: Recommendation[] = new Array(batch.length);
      order.forEach((reqIndex, row) => {
        const r: Recommendation = { itemIndices: [], scores: [] };
        for (let c = 0; c < width; c++) {
          const s = scores[row * width + c]!;
          if (s === -Infinity) break; // only excluded items remain
          r.itemIndices.push(Number(items[row * width + c]!));
          r.scores.push(s);
        }
        results[reqIndex] = r;
      });
      return results;
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
  return scorer;
}
