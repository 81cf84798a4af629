/**
 * The modules under mutation testing (issue #21): the code whose bugs change a decision or an
 * answer. Each is run on its own (its own incremental file and report), with only the test files
 * that exercise it, so a rerun after a change costs the mutants that change touched.
 * `mutate` takes Stryker's globs (a `file.ts:from-to` range limits it to those lines).
 */
export const MODULES = {
  "experiments-results": {
    mutate: [
      "packages/experiments/src/results.ts",
      "packages/experiments/src/outcome.ts",
      "packages/experiments/src/verdict.ts",
    ],
    // test/simulation.test.ts also runs computeResults, 4,000 times per mutant: left out (slow)
    tests: [
      "packages/experiments/src/results.test.ts",
      "packages/experiments/src/results-details.test.ts",
      "packages/experiments/test/results-reference.test.ts",
    ],
  },
  "experiments-stats": {
    mutate: [
      "packages/experiments/src/stats/*.ts",
      "!packages/experiments/src/stats/*.test.ts",
      "packages/experiments/src/plan.ts",
    ],
    tests: [
      "packages/experiments/src/stats/*.test.ts",
      "packages/experiments/src/plan.test.ts",
      "packages/experiments/test/reference.test.ts",
      "packages/experiments/test/known-truth.test.ts",
      "packages/experiments/test/results-reference.test.ts",
    ],
  },
  "experiments-assignment": {
    mutate: ["packages/experiments/src/assignment.ts"],
    tests: ["packages/experiments/src/assignment.test.ts"],
  },
  "ml-eval": {
    mutate: ["packages/ml/src/eval/metrics.ts", "packages/ml/src/eval/evaluate.ts"],
    tests: ["packages/ml/src/eval/*.test.ts"],
  },
  serving: {
    mutate: [
      "packages/serving/src/recommender.ts",
      "packages/serving/src/strategies/*.ts",
      "!packages/serving/src/strategies/*.test.ts",
    ],
    tests: ["packages/serving/src/*.test.ts", "packages/serving/src/strategies/*.test.ts"],
  },
  cache: {
    mutate: ["packages/cache/src/lru.ts", "packages/cache/src/port.ts"],
    tests: ["packages/cache/test/lru.test.ts"],
  },
  "bus-record": {
    mutate: ["packages/bus/src/file-log/record.ts"],
    tests: ["packages/bus/src/file-log/*.test.ts", "packages/bus/test/file-log*.test.ts"],
  },
  // The commit rule (ingest.ts by line): which offsets a delivery takes or skips, the commit moved
  // up to what the disk covers, commits only after the file is on disk and only for partitions
  // still held, and trimBatch. The exactly-once tests that SIGKILL a worker process run the code
  // in child processes, where no mutant is active: left out. The in-process worker suite (~30 s a
  // run) sends dead letters through the whole worker, so it stays. The retention-gap suite runs the
  // worker in-process on real Kafka (the only bus that deletes records): it needs KAFKA_BROKERS
  // (`eval "$(bash scripts/services.sh env)"` before `npm run mutation`).
  "stream-commit": {
    mutate: [
      "packages/stream/src/ingest.ts:249-260",
      "packages/stream/src/ingest.ts:276-288",
      "packages/stream/src/ingest.ts:324-353",
      "packages/stream/src/ingest.ts:367-421",
      "packages/stream/src/micro-batch.ts",
    ],
    tests: [
      "packages/stream/src/ingest*.test.ts",
      "packages/stream/src/micro-batch.test.ts",
      "packages/stream/src/trim-batch.test.ts",
      "apps/stream-worker/test/worker.file-log.test.ts",
      "apps/stream-worker/test/retention-gap.kafka.test.ts",
    ],
  },
  rollouts: {
    mutate: [
      "packages/rollouts/src/gates.ts",
      "packages/rollouts/src/machine.ts",
      "packages/rollouts/src/routing.ts",
      "packages/rollouts/src/plan.ts",
    ],
    // simulate.test.ts (800 simulated rollouts, ~16 s a run) is left out: decisions.test.ts holds
    // the same gates and stage decisions at their boundaries.
    tests: [
      "packages/rollouts/src/plan.test.ts",
      "packages/rollouts/src/routing.test.ts",
      "packages/rollouts/src/decisions.test.ts",
    ],
  },
};
