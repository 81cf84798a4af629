import type { ChildProcess } from "node:child_process";
import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { EventBus } from "@reco/bus";
import type { TopicNames } from "@reco/contracts";
import { freePort, waitFor } from "@reco/testkit";
import {
  allCovered,
  consumed,
  killHard,
  publishEvents,
  sleep,
  snapshotCounts,
  spawnWorker,
  stopGracefully,
} from "./helpers.ts";

export interface ExactlyOnceScenario {
  /** The parent's producer handle. */
  bus: EventBus;
  topics: TopicNames;
  snapshotRoot: string;
  /** Environment of each worker child (src/main.ts). */
  workerEnv: Record<string, string>;
  total: number;
  kills: number;
  /** Runs once, halfway through production (the broker restart). */
  midway?: () => Promise<void>;
  /** Upper bound on the wait for the last records to be covered. */
  settleTimeoutMs?: number;
}

export interface ExactlyOnceOutcome {
  rows: number;
  distinct: number;
  killedAtMs: number[];
  lastExitCode: number | null;
  /** Records in the log (sum of end offsets): the producer side, to tell its losses from the worker's. */
  produced: number;
}

/**
 * Produces `total` events while a worker child is SIGKILLed at `kills` random moments (a new one
 * started at once each time), then lets the last worker catch up and stop gracefully.
 */
export async function runExactlyOnceScenario(
  scenario: ExactlyOnceScenario,
): Promise<ExactlyOnceOutcome> {
  const started = Date.now();
  const chunk = 5_000;
  const chunks = Math.ceil(scenario.total / chunk);
  // Each worker gets its own batch size, so a replayed range never lines up with the file
  // written before the crash by chance: only reconciliation with the files prevents duplicates.
  let port = 0;
  const start = async () => {
    port = await freePort();
    return spawnWorker({
      ...scenario.workerEnv,
      WORKER_PORT: String(port),
      BATCH_MAX_RECORDS: String(2_000 + Math.floor(Math.random() * 4_000)),
    });
  };
  let child: ChildProcess = await start();
  let producing = true;
  const killedAtMs: number[] = [];
  await mkdir(scenario.snapshotRoot, { recursive: true });

  const killer = (async () => {
    for (let k = 0; k < scenario.kills; k++) {
      // A random moment, then the instant the next file lands: the crash falls between the
      // Parquet rename and the offset commit, the window that loses or duplicates if anything does.
      await sleep(1_500 + Math.random() * 4_500);
      await nextSnapshotFile(scenario.snapshotRoot, 5_000);
      await killHard(child);
      killedAtMs.push(Date.now() - started);
      child = await start();
    }
  })();

  try {
    for (let c = 0; c < chunks; c++) {
      await publishEvents(
        scenario.bus,
        scenario.topics,
        c * chunk,
        Math.min(scenario.total, (c + 1) * chunk),
      );
      if (c === Math.floor(chunks / 2) && scenario.midway) await scenario.midway();
      await sleep(350);
    }
    producing = false;
    await killer;
    await waitFor(
      () => allCovered(scenario.bus, scenario.snapshotRoot, consumed(scenario.topics)),
      {
        timeoutMs: scenario.settleTimeoutMs ?? 120_000,
        intervalMs: 500,
        description: "the last worker to cover every produced record",
      },
    );
    // The files may already cover everything while the last worker is still starting: stop it
    // only once it runs (its SIGTERM handler is installed), as an operator's stop would find it.
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.ok,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 250, description: "the last worker to be running" },
    );
    const lastExitCode = await stopGracefully(child);
    const counts = await snapshotCounts(scenario.snapshotRoot);
    let produced = 0;
    for (const topic of consumed(scenario.topics)) {
      for (const { offset } of await scenario.bus.endOffsets(topic)) produced += Number(offset);
    }
    return { ...counts, killedAtMs, lastExitCode, produced };
  } finally {
    if (producing) await killer.catch(() => undefined);
    await killHard(child);
  }
}

/** Resolves when a snapshot file is renamed into place under root (or after timeoutMs). */
function nextSnapshotFile(root: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(root, { recursive: true }, (_event, name) => {
      if (name && /part-\d+-\d+-\d+\.parquet$/.test(name.toString())) done();
    });
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
  });
}
