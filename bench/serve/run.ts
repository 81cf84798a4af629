/**
 * Serving throughput, one run, c = 32 (autocannon):
 *   1. on the demo catalog (MovieLens latest-small, iALS), one server: a bare route (/healthz) as the
 *      baseline, /recommend uncached (every request a new cache key) and /recommend cached — each
 *      loaded twice per round: by a generator in its own process (as clients see the server: the
 *      headline figures) and, for continuity with the first figures, from inside the server's
 *      process (which slows the bare route most and so flatters the ratios);
 *   2. on a synthetic 100k-item factors model: /recommend uncached with dynamic batching on vs off
 *      (separate-process load).
 * Prints req/s, p50/p99, the server's CPU per request and ratios against the baselines measured here.
 *
 * The routes run in interleaved rounds (bare, uncached, cached, bare, …) and the ratios are taken
 * per round, then the median: a machine that slows down for a while affects both sides.
 *
 *   npx tsx bench/serve/run.ts [--seconds 2] [--rounds 7] [--connections 32] [--part all|demo|synthetic]
 *                              [--threads N] [--max-batch N] (default: the serving defaults)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { publishVersion, recordModelVersion, seededRandom, type FactorParams } from "@reco/ml";
import { DEFAULT_INFERENCE_THREADS, DEFAULT_MAX_BATCH } from "@reco/serving";
import {
  loadSeparate,
  loadShared,
  median,
  openDemoDatabase,
  publishDemoVersion,
  serveBench,
  type Figures,
  type LoadJob,
} from "./common.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "7" },
    connections: { type: "string", default: "32" },
    part: { type: "string", default: "all" },
    threads: { type: "string", default: String(DEFAULT_INFERENCE_THREADS) },
    "max-batch": { type: "string", default: String(DEFAULT_MAX_BATCH) },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const maxBatch = Number(values["max-batch"]);
const inferenceThreads = Number(values.threads);

type Labelled = Figures & { label: string };

function job(url: string, key: string, paths: string[], suffix?: string): LoadJob {
  return { url, key, connections, seconds, paths, ...(suffix ? { suffix } : {}) };
}

async function stable(db: Database, id: number): Promise<void> {
  await new ModelVersionStore(db.prisma).setStage({ id }, "stable", {
    by: "bench",
    reason: "benchmark baseline",
  });
}

function table(rows: Labelled[], baseline: Figures): void {
  console.log(
    "| route | req/s | p50 ms | p99 ms | errors | server CPU µs/req | req/s vs baseline |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.cpuPerRequestUs.toFixed(1)} | ${(r.rps / baseline.rps).toFixed(2)} |`,
    );
  }
}

function pct(route: Figures, bare: Figures): string {
  return ((route.rps / bare.rps) * 100).toFixed(0);
}

const work = await mkdtemp(path.join(tmpdir(), "bench-serve-"));
try {
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}; c = ${connections}, ${seconds} s per run\n`,
  );

  if (values.part !== "synthetic") await demoPart();
  if (values.part !== "demo") await syntheticPart();
} finally {
  await rm(work, { recursive: true, force: true });
}

interface Round {
  bare: Labelled;
  uncached: Labelled;
  cached: Labelled;
}

async function demoPart(): Promise<void> {
  // ---- 1. demo catalog ----
  const demoDir = path.join(work, "demo");
  const db = await openDemoDatabase(demoDir);
  const published = await publishDemoVersion(db, demoDir);
  await stable(db, published.id);
  const users = published.users;
  console.log(
    `demo: ${published.nItems} items, ${users.length} users, ${published.nInteractions} ratings\n`,
  );

  const demo = await serveBench(db, demoDir, "demo", {
    options: { batchWindowMs: 1, maxBatch, inferenceThreads },
  });
  const paths = users.map((u) => `/recommend/${u}?k=10`);
  for (const p of paths)
    await fetch(`${demo.url}${p}`, { headers: { authorization: `Bearer ${demo.key}` } }); // every user's answer cached
  const modes = [
    ["separate process", loadSeparate],
    ["shared process", loadShared],
  ] as const;
  const perMode = new Map<string, Round[]>(modes.map(([mode]) => [mode, []]));
  let bust = 0;
  for (let round = 1; round <= rounds; round += 1) {
    const line: string[] = [];
    for (const [mode, load] of modes) {
      const figures = async (label: string, paths: string[], suffix?: string) => ({
        label: `${label} (${mode} load)`,
        ...(await load(job(demo.url, demo.key, paths, suffix))),
      });
      const bare = await figures("bare route GET /healthz", ["/healthz"]);
      const uncached = await figures("GET /recommend uncached", paths, `&exclude=b${bust++}x`);
      const cached = await figures("GET /recommend cached", paths);
      perMode.get(mode)!.push({ bare, uncached, cached });
      line.push(
        `${mode}: bare ${bare.rps.toFixed(0)} req/s, uncached ${uncached.rps.toFixed(0)} (${pct(uncached, bare)} %), ` +
          `cached ${cached.rps.toFixed(0)} (${pct(cached, bare)} %)`,
      );
    }
    console.log(`round ${round}: ${line.join("; ")}`);
  }
  await demo.close();
  await db.close();
  for (const [mode] of modes) {
    const perRound = perMode.get(mode)!;
    const cachedRatios = perRound.map((r) => r.cached.rps / r.bare.rps);
    const middle = [...cachedRatios].sort((a, b) => a - b)[cachedRatios.length >> 1]!;
    const medianRound = perRound[cachedRatios.indexOf(middle)]!;
    const uncachedRatios = perRound.map((r) => r.uncached.rps / r.bare.rps);
    const uncachedRatio = median(uncachedRatios);
    const pct = (x: number) => (x * 100).toFixed(1);
    console.log(`\n${mode} load, median round (by cached ratio):\n`);
    table([medianRound.bare, medianRound.uncached, medianRound.cached], medianRound.bare);
    console.log(
      `\n${mode} load, median of ${rounds} rounds — uncached: ${pct(uncachedRatio)} % of bare ` +
        `(rounds ${pct(Math.min(...uncachedRatios))}–${pct(Math.max(...uncachedRatios))} %), ` +
        `p99 ${median(perRound.map((r) => r.uncached.p99))} ms (worst round ${Math.max(...perRound.map((r) => r.uncached.p99))} ms); ` +
        `cached: ${pct(median(cachedRatios))} % of bare (rounds ${pct(Math.min(...cachedRatios))}–${pct(Math.max(...cachedRatios))} %), ` +
        `p99 ${median(perRound.map((r) => r.cached.p99))} ms` +
        (mode === "separate process"
          ? "; targets (separate-process load): cached ≥ 45 %, uncached ≥ 25 %, p99 ≤ 20 ms"
          : ""),
    );
  }
  console.log();
}

async function syntheticPart(): Promise<void> {
  // ---- 2. synthetic 100k-item model, batching on vs off ----
  const synthDir = path.join(work, "synthetic");
  const synthDb = await openDatabase({ dataDir: synthDir });
  const nItems = 100_000;
  const nUsers = 2_000;
  const factors = 64;
  const rnd = seededRandom(1);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.1);
  const params: FactorParams = {
    kind: "factors",
    factors,
    nUsers,
    nItems,
    userFactors: fill(nUsers * factors),
    itemFactors: fill(nItems * factors),
    regularization: 0.1,
    alpha: 1,
  };
  const synthUsers = Array.from({ length: nUsers }, (_, u) => `u${u}`);
  const synth = await publishVersion({
    registryDir: path.join(synthDir, "registry"),
    name: "synthetic",
    algorithm: "ials",
    params,
    idMaps: { users: synthUsers, items: Array.from({ length: nItems }, (_, i) => `i${i}`) },
    data: { source: "synthetic", from: null, to: null, nUsers, nItems, nInteractions: 0 },
  });
  await stable(synthDb, await recordModelVersion(synthDb.prisma, synth.dir, synth.metadata));
  // Synthetic users have no recorded history: route every known user straight to the model.
  const routing = { foldInMinInteractions: 0, warmMinInteractions: 0 };
  // Both servers up at once (each with its own event log), loaded in alternation, rounds as above.
  const variants = [
    ["off", "100k items, batching off", { batchWindowMs: 0, maxBatch: 1, routing }],
    [
      "on",
      `100k items, batching on (≤ 2 ms, ≤ ${maxBatch})`,
      { batchWindowMs: 2, maxBatch, routing },
    ],
  ] as const;
  const servers = [];
  for (const [name, label, options] of variants) {
    const server = await serveBench(synthDb, synthDir, name, {
      options: { ...options, inferenceThreads },
    });
    await fetch(`${server.url}/recommend/u0?k=10`, {
      headers: { authorization: `Bearer ${server.key}` },
    }); // load the session
    servers.push({ label, server });
  }
  const paths = synthUsers.map((u) => `/recommend/${u}?k=10`);
  let b = 0;
  const perRound: [Labelled, Labelled][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const figures: Labelled[] = [];
    for (const { label, server } of servers)
      figures.push({
        label,
        ...(await loadSeparate(job(server.url, server.key, paths, `&exclude=x${b++}y`))),
      });
    perRound.push([figures[0]!, figures[1]!]);
    console.log(
      `round ${round}: off ${figures[0]!.rps.toFixed(0)} req/s, on ${figures[1]!.rps.toFixed(0)} req/s (${(figures[1]!.rps / figures[0]!.rps).toFixed(2)}×)`,
    );
  }
  for (const { label, server } of servers) {
    // Mean batch size and inference time per batch, from the server's own histograms.
    const mean = async (histogram: typeof server.runtime.metrics.batchSize) => {
      const { name, values } = await histogram.get();
      const total = (suffix: string) =>
        values
          .filter((v) => v.metricName === `${name}_${suffix}`)
          .reduce((sum, v) => sum + v.value, 0);
      return total("sum") / total("count");
    };
    const size = await mean(server.runtime.metrics.batchSize);
    const inference = await mean(server.runtime.metrics.inferenceDuration);
    console.log(
      `${label}: mean batch ${size.toFixed(1)} requests, ${(inference * 1000).toFixed(2)} ms per inference`,
    );
    await server.close();
  }
  await synthDb.close();
  const ratios = perRound.map(([off, on]) => on.rps / off.rps);
  const middle = [...ratios].sort((x, y) => x - y)[ratios.length >> 1]!;
  const medianRound = perRound[ratios.indexOf(middle)]!;
  console.log("\nmedian round:\n");
  table(medianRound, medianRound[0]);
  console.log(
    `\nmedian of ${rounds} rounds — batching on / off: ${median(ratios).toFixed(2)}× req/s (target ≥ 3×)`,
  );
}
