/**
 * The api's memory in embedded mode on the demo (PGlite, in-process cache, file-backed log, the
 * demo models and experiment, as `npm start` runs it): RSS at rest, its peak under an uncached
 * `/recommend` load (every request a new cache key, c = 32, `--seconds` 60, the load generator in
 * its own process: bench/serve's), and after it — "at rest" and "after" as the highest RSS of the
 * last 10 of 60 s quiet (QUIET_MS; 5 s after the warm-up is shown too) — with where the memory
 * goes: V8's heap (used and committed), external and array-buffer bytes (PGlite's WebAssembly
 * memory is one), what loading the models (ONNX sessions, on the inference thread) added, the
 * serving history of the demo (measured in this process on the same snapshots), and the rest (code,
 * native libraries, threads).
 *
 * Baseline in the same run: the RSS of a bare `node` process that imports nothing, the floor every
 * api pays. Targets (issue 15): peak under load ≤ rest + the cache bound + 100 MB;
 * rest ≤ 400 MB.
 *
 *   node --expose-gc --import tsx bench/memory/run.ts [--seconds 60] [--data-dir DIR]
 *                                                     [--cache-mb N] [--node-options="…"] [--real]
 *                                                     [--tsx-threads]
 *
 * The api and its worker threads run from their JavaScript bundles (scripts/run.mjs), built first
 * as `npm start` builds them; `--tsx-threads` runs them all through tsx instead, as before those
 * bundles (for comparison).
 *
 * `--real`: the api on real services instead — DATABASE_URL, REDIS_URL and KAFKA_BROKERS from the
 * environment (`eval "$(bash scripts/services.sh env)"`): the demo is prepared in a scratch database
 * on that server (dropped at the end), events go to topics of a prefix of its own, the result cache
 * is Redis (so the peak target is rest + 100 MB), and the rest target is 250 MB.
 *
 * Without --data-dir, a temporary data directory is prepared first (apps/api/src/prepare-demo.ts:
 * demo import and training, a minute or two); a directory `npm start` or bench/startup (--keep)
 * prepared can be passed instead (no api may be running on it). `--cache-mb` sets CACHE_MAX_BYTES
 * (default: the api's own default); `--node-options` adds flags to the api's node (e.g.
 * `--max-semi-space-size=4`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { InteractionHistory } from "@reco/serving";
import { buildThreadBundles } from "@reco/contracts/thread-bundles";
import { createScratchDatabase, freePort, uniqueName, type ScratchDatabase } from "@reco/testkit";
import { loadSeparate, median } from "../serve/common.ts";
import { residentMemory, resetHighWaterMark } from "./proc.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    "data-dir": { type: "string" },
    "cache-mb": { type: "string" },
    "node-options": { type: "string", default: "" },
    connections: { type: "string", default: "32" },
    real: { type: "boolean", default: false },
    "tsx-threads": { type: "boolean", default: false },
  },
});
const real = values.real;
if (real) {
  const missing = ["DATABASE_URL", "REDIS_URL", "KAFKA_BROKERS"].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0)
    throw new Error(
      `--real needs ${missing.join(", ")} (start the services: bash scripts/services.sh up; eval "$(bash scripts/services.sh env)")`,
    );
  if (values["data-dir"])
    throw new Error("--real prepares its own scratch database and data directory: no --data-dir");
}
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const probe = path.join(root, "bench", "memory", "probe.mjs");
const MB = 1024 * 1024;
/**
 * Quiet time before "at rest" and "after": two micro-batch intervals of the embedded stream worker
 * (30 s: the warm-up's exposure events are cut into a snapshot file by DuckDB meanwhile), the api's
 * collection ~7 s into a quiet spell and V8's memory reducer after it. RSS is sampled every second;
 * the figure is the highest of the last 10 s, and the series every 5 s is printed.
 */
const QUIET_MS = 60_000;

async function quietSeries(pid: number, ms: number): Promise<{ last: number; every5s: number[] }> {
  const every5s: number[] = [];
  const samples: number[] = [];
  for (let second = 1; second <= ms / 1000; second++) {
    await sleep(1000);
    samples.push(residentMemory(pid).rss);
    if (second % 5 === 0) every5s.push(samples.at(-1)!);
  }
  return { last: Math.max(...samples.slice(-10)), every5s };
}
const series = (values: number[]) => values.map((rss) => (rss / MB).toFixed(0)).join(", ");
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

interface ProbeAnswer {
  usage: NodeJS.MemoryUsage;
  spaces: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ask(child: ChildProcess, collect: boolean): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the api's memory probe did not answer")),
      10_000,
    );
    const onMessage = (message: { kind?: string } & ProbeAnswer) => {
      if (message?.kind !== "memory") return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
    child.send({ kind: "memory", gc: collect });
  });
}

async function prepare(
  dataDir: string,
  services: NodeJS.ProcessEnv,
  args: string[],
): Promise<void> {
  console.log(`preparing the demo in ${dataDir} (import and training)…`);
  const script = ["--import", "tsx", "apps/api/src/prepare-demo.ts", ...args];
  const result = spawnSync(process.execPath, script, {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, ...services },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new Error(`prepare-demo failed (exit ${result.status})`);
}

/** RSS of a node process that loads nothing (the floor of any api). */
async function bareRss(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], {
    cwd: root,
    stdio: "ignore",
  });
  await sleep(1500);
  const { rss } = residentMemory(child.pid!);
  child.kill("SIGKILL");
  return rss;
}

/** The serving history of the demo's snapshots, in this process: heap it holds after a full GC. */
async function historyBytes(snapshots: string): Promise<number | undefined> {
  if (!gc) return undefined;
  const settle = async () => {
    for (let i = 0; i < 4; i += 1) {
      gc();
      await sleep(20);
    }
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const before = await settle();
  const history = await InteractionHistory.fromSnapshots(snapshots);
  const after = await settle();
  if (history.users < 0) console.log(""); // keeps `history` alive until measured
  return after - before;
}

const scratch = values["data-dir"]
  ? undefined
  : await mkdtemp(path.join(os.tmpdir(), "bench-memory-"));
const dataDir = values["data-dir"] ? path.resolve(values["data-dir"]) : path.join(scratch!, "data");
/** With --real: the api's database, created empty on the server of DATABASE_URL. */
let database: ScratchDatabase | undefined;
let api: ChildProcess | undefined;
try {
  let services: NodeJS.ProcessEnv = { DATABASE_URL: "", REDIS_URL: "", KAFKA_BROKERS: "" };
  const keyFile = real ? path.join(scratch!, "dev-api-key") : path.join(dataDir, "dev-api-key");
  if (real) {
    database = await createScratchDatabase(process.env.DATABASE_URL!, "bench_memory");
    services = {
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      TOPIC_PREFIX: uniqueName("bench_memory"),
    };
  }
  if (scratch) await prepare(dataDir, services, real ? ["--dev-key", keyFile] : []);
  // As `npm start` does: the api and its worker threads run from their bundles — or, with
  // --tsx-threads (the comparison), through tsx (no bundle where they look).
  const threadEnv = values["tsx-threads"]
    ? { THREAD_BUNDLE_DIR: path.join(scratch ?? os.tmpdir(), "no-thread-bundles") }
    : {};
  if (!values["tsx-threads"] && !process.env.THREAD_BUNDLE_DIR) await buildThreadBundles();
  const floor = await bareRss();
  const port = await freePort();
  const nodeOptions = values["node-options"].split(/\s+/).filter(Boolean);
  api = spawn(
    process.execPath,
    [...nodeOptions, "--expose-gc", "--import", probe, "scripts/run.mjs", "apps/api/src/main.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        ...services,
        ...threadEnv,
        PORT: String(port),
        LOG_LEVEL: "warn",
        // As `npm start` and the container image run the api (scripts/start.mjs).
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
        RATE_LIMIT_RPS: "1000000000",
        RATE_LIMIT_BURST: "1000000000",
        ...(values["cache-mb"] ? { CACHE_MAX_BYTES: String(Number(values["cache-mb"]) * MB) } : {}),
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  let output = "";
  api.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  api.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (api.exitCode !== null) throw new Error(`the api exited:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`the api was not ready:\n${output.slice(-3000)}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }
  const pid = api.pid!;
  const bound = /result cache: .*at most (\d+) MB/.exec(output);
  // On real services the result cache is Redis: nothing of it in the api's memory.
  const cacheBytes = real
    ? 0
    : bound
      ? Number(bound[1]) * MB
      : Number(values["cache-mb"] ?? NaN) * MB;
  const key = (await readFile(keyFile, "utf8")).trim();
  const users = await demoUsers();
  const headers = { authorization: `Bearer ${key}` };

  await sleep(3000);
  const listening = residentMemory(pid).rss;
  // Models load on their first request: one request per user of a sample reaches every arm.
  for (const user of users.slice(0, 60)) {
    const response = await fetch(`${url}/recommend/${user}?k=10`, { headers });
    if (response.status !== 200) throw new Error(`warm-up answered ${response.status}`);
    await response.arrayBuffer();
  }
  // At rest: once quiet for QUIET_MS (5 s after the warm-up is shown too: rest as this bench
  // measured it before the api collected its garbage when quiet).
  const restSeries = await quietSeries(pid, QUIET_MS);
  const restEarly = restSeries.every5s[0]!;
  const rest = restSeries.last;
  const threadsAtRest = readdirSync(`/proc/${pid}/task`).length;
  const restProbe = await ask(api, false);
  const restCollected = await ask(api, true);
  const restAfterGc = residentMemory(pid).rss;

  // The kernel's high-water mark so far is the start-up's and the models' loading: reset it, so
  // that the peak is the load's own (clear_refs "5", Linux ≥ 4.0).
  const hwmBeforeLoad = residentMemory(pid).hwm;
  const hwmReset = resetHighWaterMark(pid);
  // Load: every request a new cache key (an exclude nobody repeats), users in turn.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(residentMemory(pid).rss), 200);
  const load = await loadSeparate({
    url,
    key,
    connections,
    seconds,
    paths: users.map((user) => `/recommend/${user}?k=10`),
    suffix: "&exclude=bench",
  });
  clearInterval(sampler);
  const underLoad = await ask(api, false);
  const peak = Math.max(hwmReset ? residentMemory(pid).hwm : 0, ...samples);
  const afterSeries = await quietSeries(pid, QUIET_MS);
  const after = afterSeries.last;
  const afterProbe = await ask(api, false);
  const afterCollected = await ask(api, true);
  const afterGc = residentMemory(pid).rss;
  const history = await historyBytes(path.join(dataDir, "snapshots"));

  const line = (label: string, rss: number, probe?: ProbeAnswer) =>
    console.log(
      `| ${label} | ${mb(rss)} | ${probe ? mb(probe.usage.heapUsed) : ""} | ${probe ? mb(probe.usage.heapTotal) : ""} | ${probe ? mb(probe.usage.external) : ""} | ${probe ? mb(probe.usage.arrayBuffers) : ""} | ${probe ? mb(rss - probe.usage.heapTotal - probe.usage.external) : ""} |`,
    );
  console.log(
    `\napi memory, ${real ? "real services (PostgreSQL, Redis, Kafka)" : "embedded demo"}, uncached /recommend load ${seconds} s at c = ${connections} (load generator in its own process): ` +
      `${load.rps.toFixed(0)} req/s, p99 ${load.p99} ms, ${load.errors} errors; result cache ${real ? "in Redis" : `bound ${Number.isFinite(cacheBytes) ? mb(cacheBytes) : "unknown"}`}`,
  );
  console.log(
    "| when | RSS | heap used | heap committed | external | of which array buffers | rest of RSS (code, native, threads) |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  line("bare `node` (baseline)", floor);
  line("api listening, no model loaded", listening);
  line("5 s after the models loaded", restEarly);
  line(
    `at rest (models loaded, highest of ${QUIET_MS / 1000 - 10}–${QUIET_MS / 1000} s quiet)`,
    rest,
    restProbe,
  );
  line("at rest, after a full GC", restAfterGc, restCollected);
  line("high-water mark before the load (start-up, the models' loading)", hwmBeforeLoad);
  line(
    hwmReset
      ? "peak under load (sampled every 200 ms, and VmHWM reset at its start)"
      : "peak under load (sampled every 200 ms; VmHWM could not be reset)",
    peak,
  );
  line("end of load", samples.at(-1) ?? 0, underLoad);
  line(`${QUIET_MS / 1000 - 10}–${QUIET_MS / 1000} s after (highest)`, after, afterProbe);
  line(`${QUIET_MS / 1000} s after, after a full GC`, afterGc, afterCollected);
  console.log(
    `\nwhere it goes: models loaded on their first requests +${mb(rest - listening)} RSS (the inference thread — its own V8 isolate and modules — and its ONNX sessions); ` +
      `external ${mb(restCollected.usage.external - restCollected.usage.arrayBuffers)} beyond array buffers at rest${real ? "" : " (PGlite's WebAssembly memory, with PostgreSQL's shared_buffers)"}; ` +
      `the demo's serving history ${history === undefined ? "(run with --expose-gc to measure)" : mb(history)} of heap; ` +
      `heap spaces at rest (used): ${Object.entries(restCollected.spaces)
        .filter(([, bytes]) => bytes > MB)
        .map(([name, bytes]) => `${name.replace(/_space$/, "")} ${mb(bytes)}`)
        .join(", ")}; ` +
      `heap used after a full GC: ${mb(restCollected.usage.heapUsed)} at rest, ${mb(afterCollected.usage.heapUsed)} with the cache full; ` +
      `${threadsAtRest} threads at rest; ` +
      `RSS samples under load: median ${mb(median(samples))}, max ${mb(Math.max(...samples))}; ` +
      `RSS every 5 s while quiet (MB), after the warm-up: ${series(restSeries.every5s)}; after the load: ${series(afterSeries.every5s)}`,
  );
  const limit = rest + cacheBytes + 100 * MB;
  const restTarget = (real ? 250 : 400) * MB;
  console.log(
    `targets: peak under load ${mb(peak)} ≤ rest + ${real ? "" : "cache bound + "}100 MB = ${mb(limit)}: ${peak <= limit ? "met" : "NOT met"} ` +
      `(${(peak / limit).toFixed(2)}×); rest ${mb(rest)} ≤ ${mb(restTarget)}: ${rest <= restTarget ? "met" : "NOT met"} ` +
      `(${(rest / restTarget).toFixed(2)}×); rest = ${(rest / floor).toFixed(1)}× a bare node process; ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
  );
} finally {
  if (api && api.exitCode === null) {
    api.kill("SIGTERM");
    await new Promise((resolve) => api!.once("exit", resolve));
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
  await database?.drop();
}

/** The demo's user ids, from its ratings file (DEMO_DATA_DIR, as the preparation read it). */
async function demoUsers(): Promise<string[]> {
  const demo = process.env.DEMO_DATA_DIR ?? path.join(root, "data", "ml-latest-small");
  const ratings = await readFile(path.join(demo, "ratings.csv"), "utf8");
  const ids = new Set<string>();
  for (const line of ratings.split("\n").slice(1)) {
    const user = line.slice(0, line.indexOf(","));
    if (user) ids.add(user);
  }
  return [...ids];
}
