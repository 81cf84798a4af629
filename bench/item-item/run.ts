/**
 * Serving cost of the demo's item-kNN (MovieLens latest-small, every rating, the default
 * parameters: 150 neighbours kept per candidate) through onnxruntime, per user: the graph as
 * exported now — each run reads the history's unpadded rows or scores every candidate over its
 * column, whichever its total row length says is cheaper — against the baseline in the same run,
 * the columns alone (how every such model was served before). Rounds alternate between the two;
 * every user of the data is asked for their top 10, one request per run, as the api's batcher
 * sends them when it is not under load. Both must answer the same top 10 (counted).
 *
 *   npx tsx bench/item-item/run.ts [--rounds 3]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  buildInteractions,
  createOnnxScorer,
  DEMO_RATINGS,
  exportOnnx,
  fitModel,
  loadDelimited,
  type ItemItemParams,
  type Scorer,
} from "@reco/ml";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Math.max(1, Number(values.rounds));

const { log } = await loadDelimited(DEMO_RATINGS);
const data = buildInteractions(log);
const params = (await fitModel("item-knn", data)).model as ItemItemParams;
const history = data.userItems;

const rowLength = (item: number) => params.indptr[item + 1]! - params.indptr[item]!;
const users = Array.from({ length: data.nUsers }, (_, user) => {
  let rowsRead = 0;
  for (let e = history.indptr[user]!; e < history.indptr[user + 1]!; e++)
    rowsRead += rowLength(history.indices[e]!);
  return { user, rowsRead };
});

async function scorerOf(segmentCost?: number): Promise<Scorer> {
  const graph = exportOnnx(params, { itemItemRowsMaxBytes: 0, itemItemSegmentCost: segmentCost });
  return createOnnxScorer({
    kind: "item-item",
    modelBytes: graph.bytes,
    nItems: params.nItems,
    nUsers: data.nUsers,
    trainHistory: history,
  });
}
// A cost no history reaches: every run takes the columns (an empty history still reads rows).
const variants = {
  columns: await scorerOf(Number.MAX_SAFE_INTEGER),
  "rows or columns": await scorerOf(),
};

const samples: Record<string, number[][]> = { columns: [], "rows or columns": [] };
const answers: Record<string, string[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, scorer] of Object.entries(variants)) {
    const perUser: number[] = [];
    const answered: string[] = [];
    for (const { user } of users) {
      const started = performance.now();
      const [top] = await scorer.recommend([{ userIndex: user }], 10);
      perUser.push(performance.now() - started);
      answered.push(top!.itemIndices.join(","));
    }
    samples[name]!.push(perUser);
    answers[name] = answered;
  }
}
const differing = answers.columns!.filter(
  (top, i) => top !== answers["rows or columns"]![i],
).length;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const byRows = [...users].sort((a, b) => a.rowsRead - b.rowsRead);
console.log(
  `demo item-kNN: ${params.nItems} items, ${params.indptr[params.nItems]} row entries, ${data.nUsers} users; ` +
    `row entries a history reads: median ${quantile(
      byRows.map((u) => u.rowsRead),
      0.5,
    )}, ` +
    `p90 ${quantile(
      byRows.map((u) => u.rowsRead),
      0.9,
    )}, max ${byRows.at(-1)!.rowsRead}; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
);
console.log("| | columns (baseline) | rows or columns | ratio |");
console.log("|---|---:|---:|---:|");
const row = (label: string, pick: (perUser: number[]) => number) => {
  const of = (name: string) => median(samples[name]!.map(pick));
  const base = of("columns");
  const now = of("rows or columns");
  console.log(
    `| ${label} | ${base.toFixed(2)} ms | ${now.toFixed(2)} ms | ${(base / now).toFixed(2)}× |`,
  );
};
row("mean per request", (perUser) => perUser.reduce((a, b) => a + b, 0) / perUser.length);
row("median user", (perUser) => median(perUser));
row("p99 user", (perUser) =>
  quantile(
    [...perUser].sort((a, b) => a - b),
    0.99,
  ),
);
row("slowest user", (perUser) => Math.max(...perUser));
// The users whose history reads the most rows: where reading rows alone would be slowest.
const heavy = byRows.slice(-Math.ceil(users.length / 100)).map((u) => u.user);
row(
  "the 1 % of users reading the most rows, mean",
  (perUser) => heavy.reduce((s, u) => s + perUser[u]!, 0) / heavy.length,
);
console.log(
  `\nmedians of ${rounds} alternating rounds; top 10 differing between the two: ${differing} of ${users.length} users`,
);
await Promise.all(Object.values(variants).map((scorer) => scorer.release()));
