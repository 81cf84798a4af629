/**
 * The load generator, as its own process: a server is never loaded from inside itself (the
 * generator's CPU would be the server's). Reads one JSON job from argv[2]:
 *   { url, key, connections, seconds, paths: string[], suffix?: string }
 * requests paths[n % paths.length] (+ suffix + n when a suffix is given, so every request is a new
 * cache key), and prints one JSON line: { rps, total, p50, p99, errors }.
 */
import autocannon from "autocannon";

interface Job {
  url: string;
  key: string;
  connections: number;
  seconds: number;
  paths: string[];
  suffix?: string;
}

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
let n = 0;
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  headers: { authorization: `Bearer ${job.key}` },
  requests: [
    {
      setupRequest: (request) => {
        const i = n++;
        const path = job.paths[i % job.paths.length]!;
        return { ...request, path: job.suffix ? `${path}${job.suffix}${i}` : path };
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
