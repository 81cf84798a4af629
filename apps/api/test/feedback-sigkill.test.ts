import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { querySnapshots } from "@reco/snapshots";
import { freePort, waitFor } from "@reco/testkit";
import { afterEach, describe, expect, it } from "vitest";

/**
 * "Acknowledged means durable", process level: 2,000 feedback events posted in 20 batches of 100,
 * every one answered 202, then the whole process group (the api, and in Kafka mode the stream
 * worker beside it, as `npm start` runs them) is killed with SIGKILL right after the last answer —
 * no graceful stop, nothing flushed. Started again, the snapshots must end with exactly those 2,000
 * events for that user: each once, by row and by event id.
 *
 * The first run's stream worker writes its micro-batches only every 10 minutes, so at the kill the
 * events exist nowhere but on the bus (file log / Kafka) — which is what a 202 must guarantee.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BATCHES = 20;
const PER_BATCH = 100;
const TOTAL = BATCHES * PER_BATCH;

interface Group {
  leader: ChildProcess;
  output: string[];
  /** Resolves once every process of the group has exited (the shared output pipe closed). */
  closed: Promise<void>;
}

let running: Group | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  if (running) await killGroup(running);
  running = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/**
 * The api (and the worker) as children of one shell in a process group of their own
 * (`detached`), their output on one pipe; the env carries both apps' variables.
 */
function startGroup(withWorker: boolean, env: Record<string, string>): Group {
  const node = JSON.stringify(process.execPath);
  const api = `${node} --import tsx apps/api/src/main.ts`;
  const worker = `${node} --import tsx apps/stream-worker/src/main.ts`;
  const script = withWorker ? `${api} & ${worker} & wait` : `${api} & wait`;
  const inherited = { ...process.env };
  for (const name of ["KAFKA_BROKERS", "REDIS_URL", "DATABASE_URL"]) delete inherited[name];
  const leader = spawn("/bin/sh", ["-c", script], {
    cwd: root,
    detached: true,
    env: { ...inherited, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  leader.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  leader.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  // an early exit shows in the output a failing wait prints, instead of a silent empty log
  leader.on("exit", (code, signal) =>
    output.push(`\n[group exited: code ${code}, signal ${signal}]\n`),
  );
  leader.on("error", (error) => output.push(`\n[group failed to start: ${error.message}]\n`));
  const closed = once(leader, "close").then(() => undefined);
  return { leader, output, closed };
}

/** SIGKILL to every process of the group at once; waits until all of them are gone. */
async function killGroup(group: Group): Promise<void> {
  try {
    process.kill(-group.leader.pid!, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
  await group.closed;
}

async function waitForOutput(group: Group, text: string, what: string): Promise<void> {
  await waitFor(() => group.output.join("").includes(text), {
    timeoutMs: 90_000,
    intervalMs: 100,
    description: () => `${what} (output so far:\n${group.output.join("").slice(-4_000)})`,
  });
}

async function userCounts(dir: string, userId: string) {
  const [row] = await querySnapshots<{ rows: bigint; ids: bigint; items: bigint }>(
    path.join(dir, "snapshots"),
    `SELECT count(*) AS rows, count(DISTINCT event_id) AS ids, count(DISTINCT item_id) AS items
       FROM {source} WHERE user_id = '${userId}'`,
  );
  return {
    rows: Number(row?.rows ?? 0),
    ids: Number(row?.ids ?? 0),
    items: Number(row?.items ?? 0),
  };
}

async function scenario(mode: "embedded" | "kafka"): Promise<void> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), `feedback-sigkill-${mode}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const userId = `sigkill-${randomUUID()}`;
  const brokers = process.env.KAFKA_BROKERS;
  if (mode === "kafka" && !brokers)
    throw new Error(
      'the Kafka SIGKILL test needs the shared broker, but KAFKA_BROKERS is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`',
    );
  const prefix = `sk${randomUUID().slice(0, 8)}`;
  const env = (batchIntervalMs: number): Record<string, string> => ({
    DATA_DIR: dataDir!,
    PORT: String(port),
    HOST: "127.0.0.1",
    RATE_LIMIT_RPS: "100000",
    RATE_LIMIT_BURST: "100000",
    // embedded: the api's in-process worker; kafka: the standalone worker
    STREAM_BATCH_INTERVAL_MS: String(batchIntervalMs),
    BATCH_INTERVAL_MS: String(batchIntervalMs),
    ...(mode === "kafka"
      ? {
          KAFKA_BROKERS: brokers!,
          TOPIC_PREFIX: prefix,
          WORKER_GROUP_ID: `${prefix}-workers`,
          WORKER_PORT: "0",
          // the killed member leaves the group after this, so the restarted one gets its partitions
          KAFKA_SESSION_TIMEOUT_MS: "6000",
        }
      : {}),
  });
  const ready = async (group: Group) => {
    await waitForOutput(group, "api listening on", "api listening");
    if (mode === "kafka") await waitForOutput(group, "stream worker running", "worker running");
  };

  running = startGroup(mode === "kafka", env(600_000));
  await ready(running);
  const key = (await readFile(path.join(dataDir, "dev-api-key"), "utf8")).trim();
  const types = ["click", "rate", "watch"] as const;
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: PER_BATCH }, (_, i) => {
      const n = b * PER_BATCH + i;
      const type = types[n % 3]!;
      return {
        userId,
        itemId: `item-${n}`,
        type,
        ...(type === "rate" ? { value: 1 + (n % 9) / 2 } : type === "watch" ? { value: 0.5 } : {}),
      };
    }),
  );
  // four clients at once, so acknowledgements share flushes as under real load
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < BATCHES) {
        const events = batches[next++]!;
        const response = await fetch(`${base}/feedback`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ events }),
        });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
    }),
  );
  await killGroup(running); // right after the last answer
  running = undefined;
  expect(statuses).toEqual(Array(BATCHES).fill(202));
  // nothing reached the snapshots before the kill: only the bus can have kept the events
  expect((await userCounts(dataDir, userId)).rows).toBe(0);

  running = startGroup(mode === "kafka", env(300));
  await ready(running);
  let last = { rows: 0, ids: 0, items: 0 };
  const counts = await waitFor(
    async () => {
      last = await userCounts(dataDir!, userId);
      return last.rows >= TOTAL ? last : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 250, description: `${TOTAL} rows for the user` },
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}; last count ${JSON.stringify(last)}; output:\n${running!.output.join("").slice(-6_000)}`,
    );
  });
  // a little longer: a duplicate written late would show up here
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const settled = await userCounts(dataDir, userId);
  expect(counts.rows).toBe(TOTAL);
  expect(settled).toEqual({ rows: TOTAL, ids: TOTAL, items: TOTAL });
}

describe("POST /feedback: a 202 survives SIGKILL of the whole process group", () => {
  it("embedded mode (file-log bus): 2,000 acknowledged events, killed right after the last 202, all 2,000 in the snapshots once", async () => {
    await scenario("embedded");
  }, 180_000);

  it("Kafka mode (api + stream worker processes): 2,000 acknowledged events, killed right after the last 202, all 2,000 in the snapshots once", async () => {
    await scenario("kafka");
  }, 180_000);
});
