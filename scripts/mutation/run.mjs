#!/usr/bin/env node
// `npm run mutation [-- module …]`: StrykerJS on each module of modules.mjs in turn (all when none
// is named), incremental, concurrency 1; then the score per module. Reports: .cache/mutation/
// (<module>.html, <module>.json, summary.md). Not part of `npm test`: a full first run takes about
// an hour on 2 cores; an incremental rerun only re-tests mutants whose code or tests changed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MODULES } from "./modules.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, ".cache/mutation");
const args = process.argv.slice(2);
const force = args.includes("--force");
const names = args.filter((a) => !a.startsWith("--"));
for (const name of names)
  if (!MODULES[name]) {
    console.error(`unknown module ${name}; modules: ${Object.keys(MODULES).join(", ")}`);
    process.exit(2);
  }
const selected = names.length ? names : Object.keys(MODULES);

/** Stryker's mutation score: detected (killed + timeout) over detected + survived + no coverage. */
export function score(report) {
  const counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
  for (const file of Object.values(report.files))
    for (const mutant of file.mutants) {
      const key = {
        Killed: "killed",
        Timeout: "timeout",
        Survived: "survived",
        NoCoverage: "noCoverage",
        Ignored: "ignored",
      }[mutant.status];
      counts[key ?? "errors"]++;
    }
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  return { ...counts, score: valid ? (100 * detected) / valid : 100 };
}

mkdirSync(out, { recursive: true });
let failed = false;
for (const name of selected) {
  console.log(`\n=== mutation: ${name} ===`);
  const run = spawnSync(
    "npx",
    ["stryker", "run", "scripts/mutation/stryker.config.mjs", ...(force ? ["--force"] : [])],
    { cwd: root, stdio: "inherit", env: { ...process.env, MUTATION_MODULE: name } },
  );
  if (run.status !== 0) {
    console.error(`stryker failed on ${name} (exit ${run.status})`);
    failed = true;
  }
}

const rows = [];
for (const name of Object.keys(MODULES)) {
  const file = path.join(out, `${name}.json`);
  if (!existsSync(file)) continue;
  const s = score(JSON.parse(readFileSync(file, "utf8")));
  rows.push(
    `| ${name} | ${s.score.toFixed(1)} % | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} |`,
  );
}
const summary = [
  `Mutation scores, ${new Date().toISOString().slice(0, 10)} (StrykerJS, reports in .cache/mutation/)`,
  "",
  "| module | score | killed | timeout | survived | no coverage |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows,
].join("\n");
writeFileSync(path.join(out, "summary.md"), `${summary}\n`);
console.log(`\n${summary}`);
process.exit(failed ? 1 : 0);
