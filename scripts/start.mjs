// `npm start`: the whole product. Embedded defaults (PGlite, in-process cache, file-backed event
// log): prepares the data, starts the api (which hosts the database, bus, stream worker and rollout
// controller in embedded mode) and the dashboard. With KAFKA_BROKERS (real services) the stream
// worker — and with DATABASE_URL the rollout controller beside it — runs as its own process, and
// API_INSTANCES apis can share one dashboard. `--services` (`npm run start:services`) starts
// PostgreSQL, Redis and Kafka with scripts/services.sh first and uses them. Every child is
// supervised: one that exits stops the rest. Ctrl-C stops everything, and waits until it has.
// Once everything is up, the traffic simulator (packages/simulator) replays the demo users through
// the api, supervised too but optional: its exit is reported and the product keeps running.
// `--no-simulate` or SIMULATE=0 leaves it off (it is off by default with NODE_ENV=production).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const say = (message) => process.stdout.write(`[start] ${message}\n`);
/** Every step of the start and its time, printed as it ends and summed up in the banner. */
const steps = [];
function stepDone(label, since) {
  const seconds = ((Date.now() - since) / 1000).toFixed(1);
  steps.push(`${label} ${seconds} s`);
  say(`${label}: ${seconds} s`);
}
const children = [];
let stopping = false;
/** `<DATA_DIR>/launcher.pid`, once DATA_DIR is known (see waitForPreviousLauncher). */
let launcherFile = null;

/**
 * Reports a failure and exits 1 — after stopping every child that runs (as a stop does), so a
 * crash leaves no api behind holding the database or a port. Never resolves.
 */
function fail(message) {
  process.stderr.write(`[start] ${message}\n`);
  if (!children.some(isRunning)) {
    stopping = true;
    releaseLauncherFile();
    process.exit(1);
  }
  void stopAll(1);
  return new Promise(() => {});
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;

const args = process.argv.slice(2);
for (const arg of args) {
  if (!["--services", "--no-simulate"].includes(arg))
    fail(`unknown option ${arg} (known: --services, --no-simulate)`);
}
if (args.includes("--services")) {
  say("starting PostgreSQL, Redis and Kafka (scripts/services.sh up)");
  const services = ["postgres", "redis", "kafka"];
  const up = spawnSync("bash", [path.join(root, "scripts/services.sh"), "up", ...services], {
    stdio: "inherit",
  });
  if (up.status !== 0) fail(`scripts/services.sh up failed (exit ${up.status ?? up.signal})`);
  const printed = spawnSync("bash", [path.join(root, "scripts/services.sh"), "env", ...services], {
    encoding: "utf8",
  });
  for (const line of printed.stdout.split("\n")) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match && ["DATABASE_URL", "REDIS_URL", "KAFKA_BROKERS"].includes(match[1]))
      process.env[match[1]] = match[2];
  }
}

const dataDir = path.resolve(root, process.env.DATA_DIR || ".data");
const host = process.env.HOST || "127.0.0.1";
const apiPort = Number(process.env.PORT || 4000);
const webPort = Number(process.env.WEB_PORT || 3000);
const workerPort = Number(process.env.WORKER_PORT || 9464);
const apiInstances = Number(process.env.API_INSTANCES || 1);
const databaseUrl = process.env.DATABASE_URL || "";
const redisUrl = process.env.REDIS_URL || "";
const kafkaBrokers = process.env.KAFKA_BROKERS || "";
const topicPrefix = process.env.TOPIC_PREFIX || "reco";
const production = process.env.NODE_ENV === "production";
const realServices = Boolean(databaseUrl || redisUrl || kafkaBrokers);
// Request logs stay out of the terminal unless asked for (LOG_LEVEL=info).
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  NEXT_TELEMETRY_DISABLED: "1",
  LOG_LEVEL: process.env.LOG_LEVEL || "warn",
  // glibc gives threads that allocate (libuv's pool, V8's, DuckDB's, onnxruntime's) arenas of
  // their own, up to 8 per core, and keeps what was freed in each: with two, an api gives its
  // memory back after a load and holds less at rest (bench/memory, embedded demo at rest with
  // the threads bundled: 679/673/685 → 611/648 MB).
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || "2",
};
const tsx = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");
const runner = path.join(root, "scripts", "run.mjs");
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const webDir = path.join(root, "apps", "web");
const started = Date.now();

if (!Number.isInteger(apiInstances) || apiInstances < 1 || apiInstances > 16)
  fail(`API_INSTANCES must be an integer from 1 to 16, got ${process.env.API_INSTANCES}`);
if (apiInstances > 1 && !(databaseUrl && kafkaBrokers))
  fail(
    "API_INSTANCES > 1 needs DATABASE_URL and KAFKA_BROKERS: the embedded database and event log belong to one process",
  );

// ---------------------------------------------------------------- one launcher per data directory
// `<DATA_DIR>/launcher.pid` holds this launcher's pid and state ("running", then "stopping"). A new
// start finds a previous launcher still stopping (its api releasing the embedded database, the
// worker committing) and waits for it, up to a bound, instead of failing on a held lock or port.
launcherFile = path.join(dataDir, "launcher.pid");
const STOP_WAIT_MS = 60_000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function readLauncherFile() {
  if (!launcherFile) return null;
  try {
    const [pid, state] = readFileSync(launcherFile, "utf8").trim().split(/\s+/);
    return { pid: Number(pid), state };
  } catch {
    return null;
  }
}

function writeLauncherFile(state) {
  writeFileSync(launcherFile, `${process.pid} ${state}\n`);
}

function releaseLauncherFile() {
  if (readLauncherFile()?.pid === process.pid) rmSync(launcherFile, { force: true });
}

/** A live launcher: the pid is alive and (where /proc tells) runs start.mjs, not a recycled pid. */
function launcherAlive(pid) {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("start.mjs");
  } catch {
    return true;
  }
}

async function waitForPreviousLauncher() {
  const previous = readLauncherFile();
  if (!previous || previous.pid === process.pid || !launcherAlive(previous.pid)) return;
  if (previous.state !== "stopping")
    fail(
      `another npm start (process ${previous.pid}) is running on ${dataDir}; stop it, or set DATA_DIR for a second one`,
    );
  say(
    `waiting for the previous npm start (process ${previous.pid}) to finish stopping (up to ${STOP_WAIT_MS / 1000} s)…`,
  );
  const deadline = Date.now() + STOP_WAIT_MS;
  while (launcherAlive(previous.pid)) {
    if (Date.now() > deadline)
      fail(
        `the previous npm start (process ${previous.pid}) is still stopping after ${STOP_WAIT_MS / 1000} s; wait for it or stop it`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  say(`previous npm start stopped after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------- child processes
function runStep(label, command, args, options = {}) {
  say(label);
  const since = Date.now();
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit", ...options });
  if (result.status !== 0) fail(`${label} failed (exit ${result.status ?? result.signal})`);
  stepDone(label, since);
}

/** `optional`: the child's exit is reported and the rest keep running (the simulator). */
function startChild(name, command, args, childEnv, cwd = root, { optional = false } = {}) {
  const child = spawn(command, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (stream, out) =>
    stream.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line) out.write(`[${name}] ${line}\n`);
    });
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on("exit", (code, signal) => {
    if (stopping) return;
    if (optional) say(`${name} exited (${signal ?? `code ${code}`}); the rest keep running`);
    else void fail(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
  });
  children.push(child);
  return child;
}

async function waitForHttp(url, timeoutMs, name, accept = (response) => response.ok) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (accept(response)) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await fail(`${name} did not answer at ${url} within ${timeoutMs / 1000} s`);
}

/** Whether the port can be listened on (probed in this process: no child per port). */
function portFree(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/**
 * Hash of the dashboard's sources, of the workspace packages it bundles (its `@reco/*`
 * dependencies, e.g. the experiment metrics) and of the lockfile: rebuild only when they change.
 */
function webSourceHash() {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      // next-env.d.ts is written by the build itself (git ignores it): hashed, a fresh clone's
      // second start would find the sources changed and build again.
      if ([".next", "node_modules", "e2e", "test-results", "next-env.d.ts"].includes(entry.name))
        continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(full).update(readFileSync(full));
    }
  };
  walk(webDir);
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(webDir, "package.json"), "utf8"));
  for (const name of Object.keys(dependencies).filter((dep) => dep.startsWith("@reco/")))
    walk(path.join(root, "node_modules", name, "src"));
  hash.update(readFileSync(path.join(root, "package-lock.json")));
  return hash.digest("hex");
}

/** Stops every child (SIGTERM, SIGKILL after 30 s: past the api's own deadline), then exits. */
async function stopAll(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  const running = children.filter(isRunning);
  if (running.length > 0) {
    say("stopping…");
    if (readLauncherFile()?.pid === process.pid) writeLauncherFile("stopping");
  }
  const exited = running.map((child) => new Promise((resolve) => child.once("exit", resolve)));
  // SIGTERM even for Ctrl-C: the terminal has sent the children SIGINT already, and the api
  // handles each signal once (a second SIGINT would kill it mid-shutdown).
  for (const child of running) child.kill("SIGTERM");
  const killer = setTimeout(() => {
    for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
  }, 30_000);
  await Promise.all(exited);
  clearTimeout(killer);
  releaseLauncherFile();
  process.exit(exitCode);
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => void stopAll());

// ---------------------------------------------------------------- start
if (!existsSync(tsx) || !existsSync(nextBin)) fail("dependencies are missing: run `npm ci` first");
mkdirSync(dataDir, { recursive: true });
await waitForPreviousLauncher();
writeLauncherFile("running");

const apiPorts = Array.from({ length: apiInstances }, (_, i) => apiPort + i);
const ports = [
  ...apiPorts.map((port) => [
    port,
    apiInstances > 1 ? "PORT (api; API_INSTANCES uses the next ones)" : "PORT (api)",
  ]),
  [webPort, "WEB_PORT (dashboard)"],
  ...(kafkaBrokers ? [[workerPort, "WORKER_PORT (stream worker)"]] : []),
];
for (const [port, name] of ports) {
  if (!(await portFree(port)))
    fail(
      `port ${port} for ${name} is in use on ${host}; free it or set ${name.split(" ")[0]}=<port>`,
    );
}

const services = [
  `database: ${databaseUrl ? `PostgreSQL (DATABASE_URL ${redact(databaseUrl)})` : `embedded PGlite in ${path.join(dataDir, "pg")}`}`,
  `cache: ${redisUrl ? `Redis (REDIS_URL ${redact(redisUrl)})` : "in-process"}`,
  `event bus: ${kafkaBrokers ? `Kafka (KAFKA_BROKERS ${kafkaBrokers}, topics ${topicPrefix}.*)` : `file-backed log in ${path.join(dataDir, "events")}`}`,
];
function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
say(`data directory: ${dataDir}`);
for (const line of services) say(line);
const warnings = [];
if (kafkaBrokers && !databaseUrl)
  warnings.push(
    "KAFKA_BROKERS without DATABASE_URL: the stream worker cannot reach the embedded database (it belongs to the api process), so per-minute aggregates are not written and no rollout controller runs; set DATABASE_URL too",
  );
if (kafkaBrokers && !redisUrl)
  warnings.push(
    "KAFKA_BROKERS without REDIS_URL: the stream worker's real-time features (recent items, trending) do not reach the api",
  );
for (const warning of warnings) say(`warning: ${warning}`);

// A development admin key in DATA_DIR: the embedded api makes it; with PostgreSQL the preparation
// does (on a database without keys, or the key saved here before), except in production.
const keyFile = path.join(dataDir, "dev-api-key");
const readDevKey = () =>
  !(production && databaseUrl) && existsSync(keyFile) && statSync(keyFile).size > 0
    ? readFileSync(keyFile, "utf8").trim()
    : undefined;

// The dashboard build, checked first (a hash of its sources, a few ms): when it is present and the
// dashboard's key is known already (a second start), the dashboard starts beside the preparation
// and the api instead of after them.
let since = Date.now();
const buildHashFile = path.join(webDir, ".next", "reco-source-hash");
const hash = webSourceHash();
const buildPresent = existsSync(buildHashFile) && readFileSync(buildHashFile, "utf8") === hash;
if (buildPresent) stepDone("dashboard build is up to date (checked)", since);
const apiUrls = apiPorts.map((port) => `http://${host}:${port}`);
let web = null;
let webStarted = 0;
function startWeb(devKey) {
  webStarted = Date.now();
  web = startChild(
    "web",
    process.execPath,
    [nextBin, "start", "--port", String(webPort), "--hostname", host],
    {
      ...env,
      API_URL: apiUrls.join(","),
      // Embedded demo: the dashboard is signed in with the development key. On real services,
      // visitors sign in with a key (the development key's path is printed below).
      DASHBOARD_API_KEY: !realServices && devKey ? devKey : "",
    },
    webDir,
  );
}
// (DEV_API_KEY replaces the saved key once the api runs: then the dashboard waits for it.)
const knownKey = process.env.DEV_API_KEY ? undefined : readDevKey();
if (buildPresent && (realServices || knownKey)) startWeb(knownKey);

// The preparation (migrations, demo import, demo training) runs once per embedded database: a
// marker in DATA_DIR records it, keyed by the database's system identifier (pg_control: a new
// database is a new one), the preparation script and the migrations. With it, a restart skips the
// preparation's process (the api applies any pending migration itself); without it (first start,
// a changed script or migration, a failed training, PostgreSQL) the preparation runs as before.
const preparedFile = path.join(dataDir, "prepared");
function preparationFingerprint() {
  if (databaseUrl) return null;
  try {
    const control = readFileSync(path.join(dataDir, "pg", "global", "pg_control")).subarray(0, 8);
    const fingerprint = createHash("sha256").update(control);
    fingerprint.update(readFileSync(path.join(root, "apps", "api", "src", "prepare-demo.ts")));
    const migrations = path.join(root, "prisma", "migrations");
    for (const name of readdirSync(migrations).sort()) {
      const file = path.join(migrations, name, "migration.sql");
      if (existsSync(file)) fingerprint.update(name).update(readFileSync(file));
    }
    return fingerprint.digest("hex");
  } catch {
    return null; // no database yet
  }
}
/** Trained demo models on disk (a failed training leaves none: the next start trains again). */
function modelsPublished() {
  try {
    return readdirSync(path.join(dataDir, "registry")).length > 0;
  } catch {
    return false;
  }
}
const fingerprint = preparationFingerprint();
// The apps and their worker threads (inference, validation, the event log's writer, training) run
// from JavaScript built from the sources as they are now (scripts/run.mjs): an api that loads tsx
// costs ~50 MB more, a thread ~20 MB.
runStep("bundling the apps and worker threads", process.execPath, [
  tsx,
  "packages/contracts/src/cli/build-threads.ts",
]);

if (
  fingerprint &&
  modelsPublished() &&
  existsSync(preparedFile) &&
  readFileSync(preparedFile, "utf8").trim() === fingerprint
) {
  say("preparation already done for this database (demo data imported, models trained): skipped");
} else {
  rmSync(preparedFile, { force: true });
  runStep("preparing the database and demo data", process.execPath, [
    tsx,
    "apps/api/src/prepare-demo.ts",
    ...(databaseUrl && !production ? ["--dev-key", keyFile] : []),
  ]);
  const prepared = preparationFingerprint();
  if (prepared && modelsPublished()) writeFileSync(preparedFile, `${prepared}\n`);
}

if (!buildPresent) {
  runStep(
    "building the dashboard (first start only; about a minute)",
    process.execPath,
    [nextBin, "build"],
    { cwd: webDir },
  );
  writeFileSync(buildHashFile, hash);
}

// With Kafka the stream worker is its own process: it consumes the topics the apis publish to,
// writes the snapshots in DATA_DIR, the features to Redis and the aggregates to PostgreSQL, and
// (with a database) runs the rollout controller. STREAM_BATCH_INTERVAL_MS sets its micro-batch
// interval in both modes (BATCH_INTERVAL_MS, the worker's own name, wins when set).
since = Date.now();
if (kafkaBrokers) {
  startChild("worker", process.execPath, [runner, "apps/stream-worker/src/main.ts"], {
    ...env,
    WORKER_PORT: String(workerPort),
    WORKER_GROUP_ID: process.env.WORKER_GROUP_ID || `${topicPrefix}.stream-worker`,
    ...(process.env.STREAM_BATCH_INTERVAL_MS && !process.env.BATCH_INTERVAL_MS
      ? { BATCH_INTERVAL_MS: process.env.STREAM_BATCH_INTERVAL_MS }
      : {}),
  });
}
// In this node process (scripts/run.mjs), not through tsx's CLI, which would start a second node
// process to run the api in (a few hundred ms more on each start) and relay the signals to it.
apiPorts.forEach((port, i) =>
  startChild(
    apiInstances > 1 ? `api-${i + 1}` : "api",
    process.execPath,
    [runner, "apps/api/src/main.ts"],
    {
      ...env,
      PORT: String(port),
      HOST: host,
    },
  ),
);
await Promise.all(
  apiPorts.map((port, i) =>
    waitForHttp(
      `http://${host}:${port}/healthz`,
      120_000,
      apiInstances > 1 ? `api-${i + 1}` : "api",
    ),
  ),
);
stepDone(apiInstances > 1 ? "apis answering" : "api answering", since);
if (kafkaBrokers) {
  // 503 until the worker has joined its consumer group; the first join can take a few seconds.
  since = Date.now();
  await waitForHttp(`http://${host}:${workerPort}/healthz`, 120_000, "stream worker");
  stepDone("stream worker answering", since);
}
// (In production on PostgreSQL a file left by a development run is not the database's key.)
const devKey = readDevKey();

if (!web) startWeb(devKey);
await waitForHttp(`http://${host}:${webPort}/`, 120_000, "dashboard");
stepDone("dashboard answering (from its start)", webStarted);

const simulator = startSimulator();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const mode = realServices
  ? `real services: ${[databaseUrl && "PostgreSQL", redisUrl && "Redis", kafkaBrokers && "Kafka"].filter(Boolean).join(", ")}${databaseUrl && redisUrl && kafkaBrokers ? "" : " + embedded defaults"}`
  : "embedded mode";
const keyLine = devKey
  ? `${devKey.slice(0, 17)}… in ${keyFile}`
  : production
    ? `(none created with NODE_ENV=production: npm run keys -- create --role admin, then sign in with it)`
    : "(none: create one with npm run keys -- create --role admin)";
const lines = [
  `Reco is running (${mode}, ready in ${seconds} s)`,
  `  Start steps      ${steps.join(", ")}`,
  `  Dashboard        http://${host}:${webPort}/${realServices ? "   (sign in with the API key below)" : ""}`,
  ...apiUrls.map(
    (url, i) =>
      `  API${apiInstances > 1 ? ` ${i + 1}`.padEnd(13) : "".padEnd(14)}${url}/   (health: /healthz, readiness: /readyz, tRPC: /trpc)`,
  ),
  kafkaBrokers
    ? `  Stream worker    http://${host}:${workerPort}/metrics   (health: /healthz; ${databaseUrl ? "with the rollout controller" : "no database: no aggregates, no rollout controller"})`
    : "  Stream worker    inside the api (with the rollout controller)",
  ...services.map(
    (line) => `  ${line.split(": ")[0].padEnd(17)}${line.split(": ").slice(1).join(": ")}`,
  ),
  `  Try it           curl -H "Authorization: Bearer $(cat ${keyFile})" ${apiUrls[0]}/recommend/1?k=10`,
  `  API key (admin)  ${keyLine}`,
  ...demoAccountLines(),
  `  Simulator        ${simulator}`,
  ...warnings.map((warning) => `  Warning          ${warning}`),
  "Press Ctrl-C to stop.",
];
process.stdout.write(`\n${lines.join("\n")}\n`);

/** The demo accounts prepare-demo saved (role, email, password), for signing in on the dashboard. */
function demoAccountLines() {
  const file = path.join(dataDir, "demo-accounts.txt");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const accounts = text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 3);
  return accounts.map(
    ([role, email, password], i) =>
      `  ${i === 0 ? "Sign in as".padEnd(17) : "".padEnd(17)}${email.padEnd(22)}${password}   (${role}; saved in ${file})`,
  );
}

/**
 * The traffic simulator as an optional child (its failure never stops the product): synthetic demo
 * users at SIMULATE_RPS (default 10) requests/s for SIMULATE_DURATION (default 1h), with the
 * development key, or on PostgreSQL without one a client key it creates. A new seed each start
 * (SIMULATE_SEED pins one): new synthetic users, so the demo experiment keeps enrolling. Returns
 * the banner's line.
 */
function startSimulator() {
  const setting = process.env.SIMULATE;
  if (args.includes("--no-simulate") || setting === "0") return "off (--no-simulate / SIMULATE=0)";
  if (production && setting !== "1") return "off with NODE_ENV=production (SIMULATE=1 turns it on)";
  // The key goes by file, not on the command line (where ps would show it).
  let keyPath = devKey ? keyFile : undefined;
  const simulatorKeyFile = path.join(dataDir, "simulator-api-key");
  if (!keyPath && databaseUrl && existsSync(simulatorKeyFile)) keyPath = simulatorKeyFile;
  if (!keyPath && databaseUrl) {
    const created = spawnSync(
      process.execPath,
      [
        tsx,
        "packages/serving/src/cli/api-keys.ts",
        ...["create", "--role", "client", "--name", "simulator"],
      ],
      { cwd: root, env, encoding: "utf8" },
    );
    const key = created.status === 0 ? created.stdout.split("\n")[1]?.trim() : undefined;
    if (key) {
      writeFileSync(simulatorKeyFile, `${key}\n`, { mode: 0o600 });
      keyPath = simulatorKeyFile;
    } else say(`simulator: could not create a client key (${created.stderr.trim()})`);
  }
  if (!keyPath)
    return "off: no API key to send with (create one: npm run keys -- create --role client)";
  const users = process.env.SIMULATE_USERS || "100";
  const rps = process.env.SIMULATE_RPS || "10";
  const duration = process.env.SIMULATE_DURATION || "1h";
  const seed = process.env.SIMULATE_SEED || String(Math.floor(Date.now() / 1000) % 1_000_000);
  startChild(
    "sim",
    process.execPath,
    [
      tsx,
      "packages/simulator/src/cli/simulate.ts",
      ...["--api", apiUrls[0], "--key-file", keyPath, "--users", users, "--rps", rps],
      ...["--duration", duration, "--seed", seed],
      ...(process.env.DEMO_DATA_DIR ? ["--data", process.env.DEMO_DATA_DIR] : []),
    ],
    env,
    root,
    { optional: true },
  );
  return `${users} demo users replayed at ≤ ${rps} req/s for ${duration} (seed ${seed}; --no-simulate or SIMULATE=0 turns it off)`;
}
