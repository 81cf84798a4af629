import { readFileSync } from "node:fs";
import path from "node:path";
import { parseCliFlags } from "@reco/contracts";
import { loadReplayUsers, runSimulation } from "../index.ts";

const HELP = `Usage: npm run simulate -- --api URL (--key KEY | --key-file FILE) [--users N] [--rps R]
                         [--duration D] [--seed S] [--visits V] [--data DIR] [--json]

Synthetic users replay the held-out behaviour of the demo data through the public REST API: each
user's ratings are split by time, the past is sent as their history, and on every visit they ask
for recommendations and click with a probability that grows with how many served items are in
their held-out future; some clicks are followed by a watch and their real rating.
  --api URL        the api's base URL (e.g. http://127.0.0.1:4000)
  --key KEY        an API key (client role or above); or
  --key-file FILE  a file holding one (e.g. .data/dev-api-key)
  --users N        synthetic users at a time (default 100)
  --rps R          requests per second at most, all kinds together (default 10)
  --duration D     how long to run: seconds, or a number with s, m or h (default 60s)
  --seed S         seed of every choice (default 1); the users' ids are sim<S>-<userId>
  --visits V       each drawn user makes V visits, then the run ends (default: users come and go,
                   N at a time: one leaves after 20 visits or once their future is met, an undrawn
                   one takes their place, and the duration ends the run)
  --data DIR       folder holding ratings.csv (default data/ml-latest-small)
  --json           print the summary as JSON on the last line
`;

/** Exits 2 with a message naming the flag. */
function bad(flag: string, message: string): never {
  process.stderr.write(`simulate: --${flag}: ${message}\n\n${HELP}`);
  process.exit(2);
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    bad(flag, `expected a whole number ≥ 1, got ${JSON.stringify(value)}`);
  return n;
}

function durationSeconds(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  const unit = { s: 1, m: 60, h: 3600 }[(match?.[2] ?? "s") as "s" | "m" | "h"];
  const seconds = match ? Number(match[1]) * unit : NaN;
  if (!(seconds > 0) || seconds > 7 * 24 * 3600)
    bad("duration", `expected seconds (or 90s, 5m, 1h) up to 7 days, got ${JSON.stringify(value)}`);
  return seconds;
}

const values = parseCliFlags(
  {
    api: { type: "string" },
    key: { type: "string" },
    "key-file": { type: "string" },
    users: { type: "string", default: "100" },
    rps: { type: "string", default: "10" },
    duration: { type: "string", default: "60s" },
    seed: { type: "string", default: "1" },
    visits: { type: "string" },
    data: { type: "string", default: "data/ml-latest-small" },
    json: { type: "boolean", default: false },
  },
  HELP,
);

if (!values.api) bad("api", "required (the api's base URL, e.g. http://127.0.0.1:4000)");
let api: URL;
try {
  api = new URL(values.api);
} catch {
  bad("api", `not a URL: ${JSON.stringify(values.api)}`);
}
if (api.protocol !== "http:" && api.protocol !== "https:")
  bad("api", `expected an http(s) URL, got ${JSON.stringify(values.api)}`);
if (values.key !== undefined && values["key-file"] !== undefined)
  bad("key", "give --key or --key-file, not both");
let key = values.key?.trim();
if (values["key-file"] !== undefined) {
  try {
    key = readFileSync(values["key-file"], "utf8").trim();
  } catch (error) {
    bad("key-file", `cannot read ${values["key-file"]}: ${(error as Error).message}`);
  }
  if (!key) bad("key-file", `${values["key-file"]} is empty`);
}
if (!key) bad("key", "required (or --key-file FILE)");
const users = positiveInt("users", values.users);
const rps = Number(values.rps);
if (!/^\d+(\.\d+)?$/.test(values.rps.trim()) || !(rps > 0) || rps > 10_000)
  bad("rps", `expected a number above 0 and at most 10000, got ${JSON.stringify(values.rps)}`);
const duration = durationSeconds(values.duration);
if (!/^\d+$/.test(values.seed.trim()) || !Number.isSafeInteger(Number(values.seed)))
  bad("seed", `expected a whole number ≥ 0, got ${JSON.stringify(values.seed)}`);
const seed = Number(values.seed);
const visits = values.visits === undefined ? undefined : positiveInt("visits", values.visits);
const ratingsPath = path.join(values.data, "ratings.csv");

let replay;
try {
  replay = await loadReplayUsers(ratingsPath);
} catch (error) {
  bad("data", (error as Error).message);
}
if (replay.length === 0) bad("data", `${ratingsPath} holds no user with enough ratings to replay`);

const log = (line: string) => process.stdout.write(`${line}\n`);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    log(`${signal}: stopping after the requests in flight`);
    stop.abort();
  });

const stats = await runSimulation({
  api: api.toString(),
  key,
  users: replay,
  userCount: users,
  rps,
  durationS: duration,
  seed,
  visitsPerUser: visits,
  log,
  signal: stop.signal,
});
log(
  `done in ${stats.seconds.toFixed(1)} s: ${stats.requests} requests, ${stats.recommendations} recommendations, ` +
    `${stats.clicks} clicks (${stats.hitClicks} on a held-out item), CTR ${(stats.ctr * 100).toFixed(1)} %, ` +
    `${stats.errors} errors, ${stats.throttled} throttled`,
);
for (const [version, s] of Object.entries(stats.byVersion))
  log(
    `  ${version}: ${s.lists} lists, ${s.clicks} clicks, CTR ${((s.clicks / s.lists) * 100).toFixed(1)} %`,
  );
if (values.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
// Requests all failed: say so in the exit code (a run that only met throttling is not a failure).
process.exit(stats.requests > 0 && stats.recommendations === 0 && stats.errors > 0 ? 1 : 0);
