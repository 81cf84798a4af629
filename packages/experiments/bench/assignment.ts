/**
 * Cost of assignVariant on the serving path, as a ratio against a single bare SHA-256 of the same
 * input measured in the same run (assignment does two hashes plus the range walk).
 * Run: npx tsx packages/experiments/bench/assignment.ts
 */
import { createHash } from "node:crypto";
import { assignVariant, parseExperimentDefinition } from "../src/index.ts";

const def = parseExperimentDefinition({
  key: "bench",
  status: "running",
  primaryMetric: "click_through",
  trafficAllocation: 0.9,
  variants: [
    { name: "control", weight: 34, strategy: "popularity" },
    { name: "b", weight: 33, modelVersionId: 1 },
    { name: "c", weight: 33, modelVersionId: 2 },
  ],
});
const users = Array.from({ length: 200_000 }, (_, i) => `user-${i}`);

function time(label: string, fn: (user: string) => unknown): number {
  let sink = 0;
  for (const u of users.slice(0, 20_000)) sink += fn(u) ? 1 : 0; // warm-up
  const start = process.hrtime.bigint();
  for (const u of users) sink += fn(u) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - start) / users.length;
  console.log(`${label.padEnd(22)} ${ns.toFixed(0).padStart(6)} ns/call  (${sink} truthy)`);
  return ns;
}

const baseline = time(
  "sha256 (baseline)",
  (u) => createHash("sha256").update("bench").update("\u0000").update(u).digest()[0],
);
const assign = time("assignVariant", (u) => assignVariant(def, u).inExperiment);
console.log(
  `ratio assignVariant / one sha256: ${(assign / baseline).toFixed(2)}× (${(1e9 / assign).toFixed(0)} assignments/s on one core)`,
);
