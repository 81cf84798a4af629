// `npm start`: the whole product on embedded defaults (PGlite, in-process cache, file-backed event
// log) — prepares the data, starts the api (which hosts the database, bus, stream worker and rollout
// controller in embedded mode) and the dashboard, and prints the URLs. Ctrl-C stops everything.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = path.resolve(root, process.env.DATA_DIR || ".data");
const apiPort = Number(process.env.PORT || 4000);
const webPort = Number(process.env.WEB_PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
// Request logs stay out of the terminal unless asked for (LOG_LEVEL=info).
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  NEXT_TELEMETRY_DISABLED: "1",
  LOG_LEVEL: process.env.LOG_LEVEL || "warn",
};
const tsx = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const webDir = path.join(root, "apps", "web");
const started = Date.now();
const children = [];

const say = (message) => process.stdout.write(`[start] ${message}\n`);

function fail(message) {
  process.stderr.write(`[start] ${message}\n`);
  for (const child of children) child.kill("SIGTERM");
  process.exit(1);
}

function runStep(label, command, args, options = {}) {
  say(label);
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit", ...options });
  if (result.status !== 0) fail(`${label} failed (exit ${result.status ?? result.signal})`);
}

function startChild(name, command, args, childEnv, cwd = root) {
  const child = spawn(command, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (stream, out) =>
    stream.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line) out.write(`[${name}] ${line}\n`);
    });
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on("exit", (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
  });
  children.push(child);
  return child;
}

async function waitForHttp(url, timeoutMs, name) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  fail(`${name} did not answer at ${url} within ${timeoutMs / 1000} s`);
}

function portFree(port) {
  const probe = spawnSync(process.execPath, [
    "-e",
    `require("net").createServer().once("error",()=>process.exit(1)).listen(${port},"${host}",function(){this.close()})`,
  ]);
  return probe.status === 0;
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
      if ([".next", "node_modules", "e2e", "test-results"].includes(entry.name)) continue;
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

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopping = true;
    say("stopping…");
    for (const child of children) child.kill("SIGTERM");
    setTimeout(() => process.exit(0), 5000).unref();
    Promise.all(
      children.map((child) => new Promise((resolve) => child.once("exit", resolve))),
    ).then(() => process.exit(0));
  });
}

if (!existsSync(tsx) || !existsSync(nextBin)) fail("dependencies are missing: run `npm ci` first");
for (const [port, name] of [
  [apiPort, "PORT (api)"],
  [webPort, "WEB_PORT (dashboard)"],
]) {
  if (!portFree(port))
    fail(
      `port ${port} for ${name} is in use on ${host}; free it or set ${name.split(" ")[0]}=<port>`,
    );
}

say(
  `data directory: ${dataDir}${process.env.DATABASE_URL ? " (database: DATABASE_URL)" : " (embedded PGlite)"}`,
);
runStep("preparing the database and demo data", process.execPath, [
  tsx,
  "apps/api/src/prepare-demo.ts",
]);

const buildHashFile = path.join(webDir, ".next", "reco-source-hash");
const hash = webSourceHash();
if (existsSync(buildHashFile) && readFileSync(buildHashFile, "utf8") === hash) {
  say("dashboard build is up to date");
} else {
  runStep(
    "building the dashboard (first start only; about a minute)",
    process.execPath,
    [nextBin, "build"],
    {
      cwd: webDir,
    },
  );
  writeFileSync(buildHashFile, hash);
}

startChild("api", process.execPath, [tsx, "apps/api/src/main.ts"], {
  ...env,
  PORT: String(apiPort),
  HOST: host,
});
await waitForHttp(`http://${host}:${apiPort}/healthz`, 120_000, "api");
const keyFile = path.join(dataDir, "dev-api-key");
const devKey =
  existsSync(keyFile) && statSync(keyFile).size > 0
    ? readFileSync(keyFile, "utf8").trim()
    : undefined;

startChild(
  "web",
  process.execPath,
  [nextBin, "start", "--port", String(webPort), "--hostname", host],
  {
    ...env,
    API_URL: `http://${host}:${apiPort}`,
    DASHBOARD_API_KEY: devKey ?? "",
  },
  webDir,
);
await waitForHttp(`http://${host}:${webPort}/`, 120_000, "dashboard");

const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`
Reco is running (embedded mode, ready in ${seconds} s)
  Dashboard        http://${host}:${webPort}/
  API              http://${host}:${apiPort}/   (health: /healthz, readiness: /readyz, tRPC: /trpc)
  Try it           curl -H "Authorization: Bearer $(cat ${keyFile})" http://${host}:${apiPort}/recommend/1?k=10
  API key (admin)  ${devKey ? `${devKey.slice(0, 17)}… in ${keyFile}` : "(none: create one with npm run keys)"}
Press Ctrl-C to stop.
`);
