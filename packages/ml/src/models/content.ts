import { BadInput } from "@reco/contracts";
import { type Csr, transposeCsr } from "../data/csr.ts";
import type { ItemContent } from "../data/item-content.ts";
import { type Interactions, interactionsFromCsr } from "../data/interactions.ts";
import type { ItemItemParams } from "../params.ts";
import type { Recommender } from "./recommender.ts";
import { topKItemItem } from "./similarity.ts";

/**
 * TF-IDF vectors of the items' content tokens, one L2-normalised row per item:
 * weight(t, j) = idf(t) = ln(N / df(t)) for each distinct token t of item j (binary tf), N the
 * number of items with at least one token. A token every item has weighs 0.
 */
export interface ContentVectors {
  /** token → column */
  vocabulary: Map<string, number>;
  idf: Float64Array;
  /** items × tokens, rows L2-normalised (an item without tokens has an empty row) */
  items: Csr;
}

export function tfidfVectors(content: ItemContent): ContentVectors {
  const vocabulary = new Map<string, number>();
  const df: number[] = [];
  let described = 0;
  for (const tokens of content.features) {
    if (tokens.length > 0) described++;
    for (const token of new Set(tokens)) {
      let column = vocabulary.get(token);
      if (column === undefined) {
        column = vocabulary.size;
        vocabulary.set(token, column);
        df.push(0);
      }
      df[column]!++;
    }
  }
  const idf = Float64Array.from(df, (d) => Math.log(described / d));
  const nItems = content.features.length;
  const indptr = new Int32Array(nItems + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < nItems; j++) {
    const columns = [...new Set(content.features[j]!.map((t) => vocabulary.get(t)!))]
      .filter((c) => idf[c]! > 0)
      .sort((a, b) => a - b);
    const norm = Math.sqrt(columns.reduce((sum, c) => sum + idf[c]! ** 2, 0));
    for (const c of columns) {
      indices.push(c);
      values.push(idf[c]! / norm);
    }
    indptr[j + 1] = indices.length;
  }
  return {
    vocabulary,
    idf,
    items: {
      nRows: nItems,
      nCols: vocabulary.size,
      indptr,
      indices: Int32Array.from(indices),
      values: Float32Array.from(values),
    },
  };
}

/**
 * Content similarity as an item-item model: the cosine of TF-IDF vectors, each candidate item
 * keeping its `neighbours` most similar items (so every described item, new ones included, can be
 * reached from a history), in "history item → candidates" CSR. The walk item → token → item is the
 * same sparse top-k machinery as item-kNN's item → user → item.
 */
export function contentSimilarity(content: ItemContent, neighbours: number): ItemItemParams {
  const { items } = tfidfVectors(content);
  // Tokens play the users' part: a token × item matrix.
  const byToken = interactionsFromCsr(transposeCsr(items));
  return topKItemItem(
    byToken,
    {
      historyToUser: (_item, _token, value) => value,
      userToCandidate: (_token, _item, value) => value,
      finish: (_h, _t, raw) => raw,
    },
    { k: neighbours, by: "column", normalizeRows: false },
  );
}

/** The train set's item metadata, or a clear error naming the option that supplies it. */
export function requireItemContent(train: Interactions, kind: string): ItemContent {
  const content = train.itemContent;
  if (!content) {
    throw new BadInput(
      `model ${kind} needs item metadata: pass --items FILE (a catalogue CSV such as data/ml-latest-small/movies.csv)`,
    );
  }
  if (content.features.length !== train.nItems) {
    throw new BadInput(
      `model ${kind}: item metadata covers ${content.features.length} items, the train set has ${train.nItems}`,
    );
  }
  return content;
}

export const CONTENT_NEIGHBOURS = {
  default: 100,
  min: 1,
  max: 2000,
  search: [10, 1000] as [number, number],
  integer: true,
  logScale: true,
  help: "content neighbours kept per candidate item (TF-IDF cosine of categories, tags, title words)",
};

export const content: Recommender = {
  kind: "content",
  summary:
    "content-based item-item: TF-IDF cosine of categories, tags and title words (needs --items), top-k neighbours per candidate; new items have neighbours from the start",
  parameters: { neighbours: CONTENT_NEIGHBOURS },
  async fit(train, params, hooks) {
    const started = performance.now();
    const result = contentSimilarity(requireItemContent(train, "content"), params.neighbours!);
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
