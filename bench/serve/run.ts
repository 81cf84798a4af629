/**
 * Serving throughput, one run, c = 32 (autocannon):
 *   1. on the demo catalog (MovieLens latest-small, iALS), one server: a bare route (/healthz) as the
 *      baseline, /recommend uncached (every request a new cache key) and /recommend cached;
 *   2. on a synthetic 100k-item factors model: /recommend uncached with dynamic batching on vs off.
 * Prints req/s, p50/p99 and ratios against the baselines measured here.
 *
 * The demo routes run in interleaved rounds (bare, uncached, cached, bare, …) and the ratios are
 * taken per round, then the median: a machine that slows down for a while affects both sides.
 *
 *   npx tsx bench/serve/run.ts [--seconds 2] [--rounds 7] [--connections 32] [--part all|demo|synthetic]
 *                              [--threads N] [--max-batch N] (default: the serving defaults)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { buildServer, servingRoutesDeps } from "@reco/api";
import { openFileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { importMovieLens } from "@reco/importer";
import {
  buildInteractions,
  fitModel,
  loadSnapshots,
  publishVersion,
  seededRandom,
  type FactorParams,
} from "@reco/ml";
import {
  ApiKeyStore,
  createServingRuntime,
  DEFAULT_INFERENCE_THREADS,
  DEFAULT_MAX_BATCH,
  type ServingOptions,
} from "@reco/serving";
import { pino } from "pino";

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

interface Figures {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(
  label: string,
  url: string,
  key: string,
  pathFor: (n: number) => string,
): Promise<Figures> {
  let n = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (request) => ({ ...request, path: pathFor(n++) }) }],
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    label,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
  };
}

async function serve(db: Database, dataDir: string, options: Partial<ServingOptions>) {
  const bus = await openFileLogBus({ dir: path.join(dataDir, "events") });
  const topics = topicNames("bench");
  await bus.ensureTopics(Object.values(topics));
  const runtime = await createServingRuntime({
    prisma: db.prisma,
    cache: new MemoryCache({ maxEntries: 1_000_000, maxBytes: 1024 * 1024 * 1024 }),
    bus,
    topics,
    snapshotsRoot: path.join(dataDir, "snapshots"),
    options: {
      rateLimitPerSecond: 1e9,
      rateLimitBurst: 1e9,
      inferenceThreads: Number(values.threads),
      ...options,
    },
  });
  const keys = new ApiKeyStore(db.prisma);
  const key = (await keys.create({ name: "bench", role: "client" })).key;
  const app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: keys,
    services: {
      stats: { counts: async () => ({ items: 0, users: 0, ratings: 0 }) },
      apiKeys: keys,
    },
    readiness: {},
    serving: servingRoutesDeps(runtime, keys),
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    key,
    runtime,
    async close() {
      await app.close();
      await runtime.close(1000);
      await bus.close();
    },
  };
}

async function markStable(
  db: Database,
  dir: string,
  version: string,
  checksum: string,
  name: string,
) {
  await db.prisma.modelVersion.create({
    data: { name, version, kind: "ials", stage: "stable", artifactPath: dir, checksum },
  });
}

function table(rows: Figures[], baseline: Figures): void {
  console.log("| route | req/s | p50 ms | p99 ms | errors | req/s vs baseline |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / baseline.rps).toFixed(2)} |`,
    );
  }
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

async function demoPart(): Promise<void> {
  // ---- 1. demo catalog ----
  const demoDir = path.join(work, "demo");
  const db = await openDatabase({ dataDir: demoDir });
  await importMovieLens({
    prisma: db.prisma,
    snapshotsRoot: path.join(demoDir, "snapshots"),
    moviesPath: "data/ml-latest-small/movies.csv",
    ratingsPath: "data/ml-latest-small/ratings.csv",
  });
  const { log } = await loadSnapshots(path.join(demoDir, "snapshots"));
  const train = buildInteractions(log);
  const { model } = await fitModel("ials", train, { factors: 64, epochs: 5 });
  const published = await publishVersion({
    registryDir: path.join(demoDir, "registry"),
    name: "ials",
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "ml-latest-small",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: log.length,
    },
  });
  await markStable(
    db,
    published.dir,
    published.metadata.version,
    published.metadata.files["model.onnx"]!.sha256,
    "ials",
  );
  const users = train.ids.users;
  console.log(`demo: ${train.nItems} items, ${users.length} users, ${log.length} ratings\n`);

  const demo = await serve(db, demoDir, { batchWindowMs: 1, maxBatch });
  const userPath = (n: number) => `/recommend/${users[n % users.length]}?k=10`;
  for (const user of users)
    await fetch(`${demo.url}${userPath(0).replace(users[0]!, user)}`, {
      headers: { authorization: `Bearer ${demo.key}` },
    }); // every user's answer cached
  let bust = 0;
  const perRound: { bare: Figures; uncached: Figures; cached: Figures }[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const bare = await load("bare route GET /healthz", demo.url, demo.key, () => "/healthz");
    const uncached = await load(
      "GET /recommend uncached",
      demo.url,
      demo.key,
      (n) => `${userPath(n)}&exclude=bench${bust++}`,
    );
    const cached = await load("GET /recommend cached", demo.url, demo.key, userPath);
    perRound.push({ bare, uncached, cached });
    console.log(
      `round ${round}: bare ${bare.rps.toFixed(0)} req/s, uncached ${uncached.rps.toFixed(0)} ` +
        `(${pct(uncached, bare)} %), cached ${cached.rps.toFixed(0)} (${pct(cached, bare)} %)`,
    );
  }
  await demo.close();
  await db.close();
  const mid = perRound.map((r) => r.cached.rps / r.bare.rps).sort((a, b) => a - b);
  const medianRound = perRound.find((r) => r.cached.rps / r.bare.rps === mid[mid.length >> 1])!;
  const uncachedRatio = median(perRound.map((r) => r.uncached.rps / r.bare.rps));
  const cachedRatio = median(perRound.map((r) => r.cached.rps / r.bare.rps));
  const worstP99 = Math.max(...perRound.map((r) => r.uncached.p99));
  const medianP99 = median(perRound.map((r) => r.uncached.p99));
  console.log("\nmedian round (by cached ratio):\n");
  table([medianRound.bare, medianRound.uncached, medianRound.cached], medianRound.bare);
  console.log(
    `\nmedian of ${rounds} rounds — uncached: ${(uncachedRatio * 100).toFixed(0)} % of bare (target ≥ 20 %), ` +
      `p99 ${medianP99} ms (worst round ${worstP99} ms; target ≤ 20 ms); cached: ${(cachedRatio * 100).toFixed(0)} % of bare (target ≥ 60 %)\n`,
  );
}

function pct(route: Figures, bare: Figures): string {
  return ((route.rps / bare.rps) * 100).toFixed(0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
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
  await markStable(
    synthDb,
    synth.dir,
    synth.metadata.version,
    synth.metadata.files["model.onnx"]!.sha256,
    "synthetic",
  );
  // Synthetic users have no recorded history: route every known user straight to the model.
  const routing = { foldInMinInteractions: 0, warmMinInteractions: 0 };
  // Both servers up at once (each with its own event log), loaded in alternation, rounds as above.
  const variants = [
    ["100k items, batching off", { batchWindowMs: 0, maxBatch: 1, routing }],
    [`100k items, batching on (≤ 2 ms, ≤ ${maxBatch})`, { batchWindowMs: 2, maxBatch, routing }],
  ] as const;
  const servers = [];
  for (const [label, options] of variants) {
    const server = await serve(
      synthDb,
      path.join(synthDir, label.includes("off") ? "off" : "on"),
      options,
    );
    await fetch(`${server.url}/recommend/u0?k=10`, {
      headers: { authorization: `Bearer ${server.key}` },
    }); // load the session
    servers.push({ label, server });
  }
  let b = 0;
  const perRound: [Figures, Figures][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const figures: Figures[] = [];
    for (const { label, server } of servers) {
      figures.push(
        await load(
          label,
          server.url,
          server.key,
          (n) => `/recommend/${synthUsers[n % nUsers]}?k=10&exclude=x${b++}`,
        ),
      );
    }
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
    const seconds = await mean(server.runtime.metrics.inferenceDuration);
    console.log(
      `${label}: mean batch ${size.toFixed(1)} requests, ${(seconds * 1000).toFixed(2)} ms per inference`,
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
