/**
 * Train time of every model kind on the demo data (MovieLens latest-small, 80% per-user split),
 * against a baseline measured in the same run: loading the file and building the matrices.
 *
 *   npx tsx bench/train-demo/run.ts [--repeat 3]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  buildInteractions,
  DEMO_RATINGS,
  fitModel,
  loadDelimited,
  randomHoldout,
  recommenders,
} from "@reco/ml";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "1" } } });
const repeat = Math.max(1, Number(values.repeat));
const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

console.log(
  `load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" ")}`,
);
const baselineSamples: number[] = [];
let train = undefined as ReturnType<typeof buildInteractions> | undefined;
for (let r = 0; r < repeat; r++) {
  const started = performance.now();
  const { log } = await loadDelimited(DEMO_RATINGS);
  train = buildInteractions(randomHoldout(log, { seed: 42 }).train);
  baselineSamples.push((performance.now() - started) / 1000);
}
const baseline = median(baselineSamples);
console.log(`baseline (load ${DEMO_RATINGS} + split + CSR): ${baseline.toFixed(2)} s\n`);
console.log("| model | train seconds (median) | × baseline |");
console.log("|---|---:|---:|");
for (const kind of Object.keys(recommenders)) {
  const samples: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const started = performance.now();
    await fitModel(kind, train!);
    samples.push((performance.now() - started) / 1000);
  }
  console.log(
    `| ${kind} | ${median(samples).toFixed(2)} | ${(median(samples) / baseline).toFixed(2)} |`,
  );
}
