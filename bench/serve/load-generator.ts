/**
 * The load generator, as its own process: a server is never loaded from inside itself (the
 * generator's CPU would be the server's). Reads one JSON job from argv[2]:
 *   { url, key, connections, seconds, paths: string[], suffix?: string,
 *     method?: "GET" | "POST", bodiesFile?: string }
 * requests paths[n % paths.length] (+ suffix + n when a suffix is given, so every request is a new
 * cache key) — with `bodiesFile` (a JSON array of strings; argv is too small for large bodies), sends
 * bodies[n % bodies.length] as JSON — and prints one JSON line:
 * { rps, total, p50, p99, errors } (errors: failed, timed out or non-2xx requests).
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

interface Job {
  url: string;
  key: string;
  connections: number;
  seconds: number;
  paths: string[];
  suffix?: string;
  method?: "GET" | "POST";
  /** A file holding a JSON array of request bodies (JSON text), sent in turn. */
  bodiesFile?: string;
}

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const bodies = job.bodiesFile
  ? (JSON.parse(readFileSync(job.bodiesFile, "utf8")) as string[])
  : undefined;
let n = 0;
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  method: job.method ?? "GET",
  headers: {
    authorization: `Bearer ${job.key}`,
    ...(bodies ? { "content-type": "application/json" } : {}),
  },
  requests: [
    {
      setupRequest: (request) => {
        const i = n++;
        const path = job.paths[i % job.paths.length]!;
        const body = bodies ? bodies[i % bodies.length] : undefined;
        return {
          ...request,
          path: job.suffix ? `${path}${job.suffix}${i}` : path,
          ...(body === undefined ? {} : { body }),
        };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  })}\n`,
);
