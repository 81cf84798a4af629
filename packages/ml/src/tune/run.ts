import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadDelimited } from "../data/delimited.ts";
import { randomHoldout } from "../data/split.ts";
import { DEMO_RATINGS } from "../eval/compare.ts";
import { describeTrial, formatTuneTable, tune } from "./search.ts";

/**
 * Tunes one model kind on the demo data the way `compare` splits it: the search only sees the
 * 80% train part (seed 42), from which it carves its own validation split.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      trials: { type: "string", default: "27" },
      seed: { type: "string", default: "42" },
      ratings: { type: "string", default: DEMO_RATINGS },
      fixed: { type: "string", default: "{}" },
    },
  });
  if (!values.model) throw new Error("--model is required");
  const { log } = await loadDelimited(values.ratings);
  const { train } = randomHoldout(log, { seed: Number(values.seed), testFraction: 0.2 });
  const result = await tune(train, {
    kinds: values.model,
    trials: Number(values.trials),
    seed: Number(values.seed),
    fixed: JSON.parse(values.fixed) as Record<string, number>,
    onTrial: (trial, { done, total }) =>
      process.stderr.write(`${describeTrial(trial, done, total)}\n`),
  });
  process.stdout.write(
    `${formatTuneTable(result)}\n\nbest: ${result.best.kind} ${JSON.stringify(result.best.params)}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: Error) => {
    process.stderr.write(`tune failed: ${error.message}\n`);
    process.exit(1);
  });
}
