/**
 * How much a retraining run holds up the event loop of the process hosting it (the api in
 * embedded mode): the job in-process (runRetrainJob) against the job in a worker thread
 * (runRetrainJobInThread), side by side in the same run, with an idle loop as the baseline. The
 * data is the demo's ratings written as one Parquet snapshot, as the stream worker would.
 *
 *   npx tsx bench/retraining/run.ts [--model ials] [--params epochs=15]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  DEMO_RATINGS,
  runRetrainJob,
  runRetrainJobInThread,
  type RetrainJobOptions,
} from "@reco/ml";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "ials" },
    params: { type: "string", default: "" },
  },
});
const params = Object.fromEntries(
  values.params
    .split(",")
    .filter(Boolean)
    .map((pair) => pair.split("=") as [string, string]),
);

async function demoSnapshots(dir: string): Promise<void> {
  const target = path.join(
    dir,
    "topic=reco.events.rate/date=2026-01-01/hour=00/part-0-0-1.parquet",
  );
  await mkdir(path.dirname(target), { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (SELECT 'e' || row_number() OVER () AS event_id, to_timestamp("timestamp")::TIMESTAMP AS event_time,
                    'rate' AS type, userId::VARCHAR AS user_id, movieId::VARCHAR AS item_id,
                    rating::DOUBLE AS value, NULL::VARCHAR AS rec_id, NULL::VARCHAR AS device,
                    NULL::VARCHAR AS country, '{}' AS payload, 0 AS "partition",
                    (row_number() OVER ())::BIGINT AS "offset"
               FROM read_csv_auto('${DEMO_RATINGS}'))
       TO '${target}' (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

interface Measure {
  seconds: number;
  p99Ms: number;
  maxMs: number;
  /** 10 ms timers that fired more than 100 ms late: requests that would have waited as long */
  lateTicks: number;
  peakRssMiB: number;
}

async function measure(work: () => Promise<unknown>): Promise<Measure> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let peakRss = process.memoryUsage().rss;
  let last = performance.now();
  let lateTicks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > 110) lateTicks++;
    last = now;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 10);
  histogram.enable();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  histogram.disable();
  clearInterval(ticker);
  return {
    seconds,
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
    lateTicks,
    peakRssMiB: peakRss / 2 ** 20,
  };
}

const root = await mkdtemp(path.join(tmpdir(), "bench-retraining-"));
try {
  const snapshotsDir = path.join(root, "snapshots");
  await demoSnapshots(snapshotsDir);
  const options = (name: string): RetrainJobOptions => ({
    snapshotsDir,
    registryDir: path.join(root, "registry"),
    name,
    kind: values.model,
    params,
  });
  console.log(
    `load average ${loadavg()
      .map((load) => load.toFixed(1))
      .join(" ")}; ${values.model} ${JSON.stringify(params)} on ${DEMO_RATINGS}\n`,
  );
  const idle = await measure(() => new Promise((resolve) => setTimeout(resolve, 3_000)));
  const inProcess = await measure(() => runRetrainJob(options("in-process")));
  const inThread = await measure(() => runRetrainJobInThread(options("in-thread")));
  const rows: [string, Measure][] = [
    ["idle loop (baseline)", idle],
    ["job in-process", inProcess],
    ["job in a worker thread", inThread],
  ];
  console.log(
    "| run | seconds | loop delay p99 ms | max ms | ticks >100 ms late | peak RSS MiB | p99 × in-process | max × in-process |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [label, m] of rows) {
    console.log(
      `| ${label} | ${m.seconds.toFixed(1)} | ${m.p99Ms.toFixed(1)} | ${m.maxMs.toFixed(0)} | ${m.lateTicks} | ${m.peakRssMiB.toFixed(0)} | ${(m.p99Ms / inProcess.p99Ms).toFixed(3)} | ${(m.maxMs / inProcess.maxMs).toFixed(3)} |`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
