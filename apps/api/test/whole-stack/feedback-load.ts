/**
 * Feedback load generator for the whole-stack fault tests, run as its own process (a server is
 * never loaded from inside the test process). Reads one JSON job from argv[2] (see `LoadJob`).
 *
 * Every `1000 / requestsPerSecond` ms it posts one batch of `eventsPerRequest` click events to the
 * next target in turn (targets alternate), unless `maxInFlight` requests are still open (then the
 * tick is counted as skipped: the rate is bounded, never caught up). Each event carries a unique
 * tag as its `recId` (`<prefix>-<request>-<index>`), which the snapshots keep in `rec_id`: the
 * server assigns event ids, so the tag is how an acknowledged event is found again.
 *
 * As each answer arrives it is appended (synchronously) to `logFile` as one JSON line
 * `{n, target, sentAt, at, status, error?}` (status 0: no HTTP answer), and for a 2xx the batch's
 * tags to `ackFile`, one a line: whatever happens to this process, the files hold exactly what was
 * acknowledged up to then. SIGTERM (or `maxSeconds`) stops sending; open requests are awaited,
 * then one summary line is printed.
 */
import { appendFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export interface LoadJob {
  targets: string[];
  key: string;
  prefix: string;
  requestsPerSecond: number;
  eventsPerRequest: number;
  maxInFlight: number;
  timeoutMs: number;
  maxSeconds: number;
  ackFile: string;
  logFile: string;
  /** Users the events are spread over (`u0` … `u<users-1>`) and items (`1` … `items`). */
  users: number;
  items: number;
}

export interface LoadLine {
  n: number;
  target: number;
  sentAt: number;
  at: number;
  status: number;
  error?: string;
}

export const eventTag = (prefix: string, n: number, j: number) => `${prefix}-${n}-${j}`;

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as LoadJob;
  const started = Date.now();
  let stopping = false;
  let inFlight = 0;
  let n = 0;
  let skipped = 0;
  const counts = new Map<number, number>();
  process.once("SIGTERM", () => (stopping = true));

  const send = async (i: number) => {
    const target = i % job.targets.length;
    const tags = Array.from({ length: job.eventsPerRequest }, (_, j) => eventTag(job.prefix, i, j));
    const events = tags.map((recId, j) => ({
      userId: `u${(i * job.eventsPerRequest + j) % job.users}`,
      itemId: String(1 + ((i + j) % job.items)),
      type: "click",
      recId,
    }));
    const sentAt = Date.now();
    let status = 0;
    let error: string | undefined;
    try {
      const response = await fetch(`${job.targets[target]}/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${job.key}`, "content-type": "application/json" },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(job.timeoutMs),
      });
      await response.arrayBuffer();
      status = response.status;
    } catch (caught) {
      const cause = (caught as { cause?: { code?: string } }).cause;
      error = cause?.code ?? (caught as Error).name;
    }
    const line: LoadLine = { n: i, target, sentAt, at: Date.now(), status, error };
    if (status >= 200 && status < 300) appendFileSync(job.ackFile, `${tags.join("\n")}\n`);
    appendFileSync(job.logFile, `${JSON.stringify(line)}\n`);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  };

  const open = new Set<Promise<void>>();
  const interval = 1000 / job.requestsPerSecond;
  let next = Date.now();
  while (!stopping && Date.now() - started < job.maxSeconds * 1000) {
    if (inFlight < job.maxInFlight) {
      const i = n++;
      inFlight += 1;
      const request = send(i).finally(() => {
        inFlight -= 1;
        open.delete(request);
      });
      open.add(request);
    } else {
      skipped += 1;
    }
    next += interval;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else next = Date.now();
  }
  await Promise.all(open);
  process.stdout.write(
    `${JSON.stringify({ requests: n, skipped, statuses: Object.fromEntries(counts) })}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
