#!/usr/bin/env bash
# `npm test`: the full suite. Starts REAL PostgreSQL, Redis and Kafka on loopback (installing them if
# missing) through scripts/services.sh, then runs lint, typecheck, builds the infrastructure tools
# (scripts/tools.sh, cached), every vitest suite (unit, contract suites against embedded adapters and
# the real services, integration, deploy/: tofu validate, promtool, metrics and env coverage) and the
# Playwright e2e suite in the system Chromium. Ends with one line: "tests: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .cache
export NEXT_TELEMETRY_DISABLED=1
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
failures=()

step "services: PostgreSQL, Redis, Kafka, Chromium"
bash scripts/services.sh up || { echo "[test] could not start the real services" >&2; exit 1; }
eval "$(bash scripts/services.sh env)"

step "lint"
npm run --silent lint || failures+=("lint")

step "typecheck"
npm run --silent typecheck || failures+=("typecheck")

step "infrastructure tools: OpenTofu, the kubernetes provider mirror, promtool (cached in ~/.cache/reco-tools)"
# Built from Go modules and a Debian package on a fresh machine (minutes), reused afterwards;
# deploy/test/*.test.ts run tofu validate / fmt and promtool with them.
bash scripts/tools.sh >/dev/null || failures+=("tools")

step "vitest: unit, contract and integration suites"
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json || failures+=("vitest")

step "playwright: end-to-end in Chromium"
# A fresh product every run: the e2e specs start from the demo data and leave experiments behind.
rm -rf .cache/e2e-data
(cd apps/web && npx playwright test) || failures+=("playwright")

step "first-load JS per route of the dashboard build (gzip, budget 250 kB)"
npx tsx apps/web/scripts/first-load.ts || failures+=("first-load JS")

# One closing line counting every test that ran.
node -e '
const fs = require("node:fs");
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return null; } };
const v = read(".cache/vitest-report.json");
const p = read(".cache/playwright-report.json");
let passed = 0, failed = 0, notRun = 0;
// Tests that neither passed nor failed did not run: a crashed runner process leaves them pending.
if (v) { passed += v.numPassedTests; failed += v.numFailedTests; notRun += v.numTotalTests - v.numPassedTests - v.numFailedTests - (v.numTodoTests || 0); }
if (p) { passed += p.stats.expected; failed += p.stats.unexpected + (p.stats.flaky || 0); notRun += p.stats.skipped || 0; }
console.log(`\nvitest: ${v ? `${v.numPassedTests} passed, ${v.numFailedTests} failed, ${v.numTotalTests - v.numPassedTests - v.numFailedTests - (v.numTodoTests || 0)} did not run, in ${v.testResults.length} files${v.success ? "" : " (the run failed: see its errors above)"}` : "no report"}`);
console.log(`playwright: ${p ? `${p.stats.expected} passed, ${p.stats.unexpected} failed, ${p.stats.skipped || 0} did not run` : "no report"}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${notRun} did not run`);
'
echo "[test] wall time: $(($(date +%s) - started)) s (services stay up: npm run services -- down)"
if ((${#failures[@]})); then
  echo "[test] FAILED: ${failures[*]}" >&2
  exit 1
fi
