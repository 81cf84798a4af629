import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The worker's Prometheus metrics, registered on the given registry (the api's in embedded mode). */
export function createWorkerMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    records: new Counter({
      name: "stream_worker_records_total",
      help: "Records by topic and outcome: snapshot, dead_letter, skipped_covered, or missing (deleted by the broker before they were read)",
      labelNames: ["topic", "outcome"] as const,
      registers,
    }),
    batchRecords: new Histogram({
      name: "stream_worker_batch_records",
      help: "Records per written micro-batch (one partition)",
      buckets: [1, 10, 100, 1_000, 5_000, 10_000, 50_000, 100_000],
      registers,
    }),
    batchSeconds: new Histogram({
      name: "stream_worker_batch_write_seconds",
      help: "Time to write one micro-batch: dead letters, Parquet, features, commit",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    commitFailures: new Counter({
      name: "stream_worker_commit_failures_total",
      help: "Commits rejected (partition moved away); the snapshot file already covers the records",
      registers,
    }),
    lag: new Gauge({
      name: "stream_worker_consumer_lag",
      help: "Records not yet committed by the group, per topic and partition",
      labelNames: ["topic", "partition"] as const,
      registers,
    }),
    assignedPartitions: new Gauge({
      name: "stream_worker_assigned_partitions",
      help: "Partitions currently assigned to this worker",
      registers,
    }),
    aggregateRuns: new Counter({
      name: "stream_worker_aggregate_runs_total",
      help: "Per-minute aggregate recomputations, by result",
      labelNames: ["result"] as const,
      registers,
    }),
    maintenance: new Counter({
      name: "stream_worker_snapshot_files_removed_total",
      help: "Snapshot files removed, by reason (compacted, retention, overlap, temp, quarantined: unreadable, moved to <root>/quarantine)",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
