/**
 * One fault scenario under load: the feedback load generator (its own process) runs against the
 * api instances, the fault is injected, the load goes on until every instance answers 2xx again,
 * then the snapshots are read (DuckDB, `@reco/snapshots`) until every acknowledged event is in
 * them or the worker has covered everything on the bus. The outcome counts what the fault tests
 * assert: acknowledged events missing from the snapshots, duplicates, 5xx outside the outage.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { coveredOffset, querySnapshots, sqlString } from "@reco/snapshots";
import { eventTag, type LoadJob, type LoadLine } from "./feedback-load.ts";
import { ITEMS, USERS, repoRoot } from "./stack.ts";

const generatorScript = path.join(repoRoot, "apps/api/test/whole-stack/feedback-load.ts");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultTimes {
  /** Epoch ms when the fault was injected (kill, stop). */
  start: number;
  /** Epoch ms when it ended (the service restarted or started again). */
  end: number;
}

export interface FaultLoad {
  /** A tag of this scenario for an event the fault posts itself. */
  tag(n: number): string;
  /** Records tags as acknowledged (appended to the generator's file of acknowledged tags). */
  acked(tags: string[]): void;
}

/**
 * Posts `batches` × `perBatch` click events to one api at once and resolves, with the tags of
 * the acknowledged ones, the instant the last answer arrives: a kill right after it loses whatever
 * the api acknowledged without storing (the issue's "2,000 answered 202, then SIGKILL").
 */
export async function postBurst(
  url: string,
  key: string,
  load: FaultLoad,
  batches = 4,
  perBatch = 100,
): Promise<string[]> {
  const answered = await Promise.all(
    Array.from({ length: batches }, async (_, b) => {
      const tags = Array.from({ length: perBatch }, (_, j) => load.tag(b * perBatch + j));
      const events = tags.map((recId, j) => ({
        userId: `u${j % USERS}`,
        itemId: String(1 + (j % ITEMS)),
        type: "click",
        recId,
      }));
      const response = await fetch(`${url}/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => null);
      await response?.arrayBuffer();
      const ok = response !== null && response.status >= 200 && response.status < 300;
      if (ok) load.acked(tags);
      return ok ? tags : [];
    }),
  );
  return answered.flat();
}

export interface ScenarioSpec {
  name: string;
  /** api base URLs; requests alternate between them. */
  targets: string[];
  key: string;
  snapshotRoot: string;
  /** The topic the feedback lands on (click events only). */
  topic: string;
  /** The bus's end offsets of `topic` (may throw while the bus is down). */
  endOffsets: () => Promise<{ partition: number; offset: string }[]>;
  workDir: string;
  /**
   * Injects the fault and brings the service back; resolves with when it did both. Events it
   * posts itself carry tags from `load.tag` and are recorded with `load.acked` once acknowledged.
   */
  fault: (load: FaultLoad) => Promise<FaultTimes>;
  /** Load before the fault. */
  warmupMs?: number;
  /** Load after the fault ended (at least; longer until every target answered 2xx again). */
  afterFaultMs?: number;
  /** How long every target may take to answer 2xx again after the fault ended. */
  recoveryTimeoutMs?: number;
  /** How long the snapshots may take to catch up once the load stopped. */
  settleTimeoutMs?: number;
}

export interface ScenarioOutcome {
  name: string;
  requests: number;
  acked: number;
  /** Acknowledged events (2xx) whose tag is in no snapshot row. */
  missing: number;
  /** Snapshot rows of this scenario beyond one per event id. */
  duplicateRows: number;
  /** Events stored under more than one event id (a client event written twice). */
  duplicateEvents: number;
  /** 5xx answers, and requests without any answer, outside the outage window. */
  fiveXxOutside: number;
  noAnswerOutside: number;
  fiveXxInside: number;
  noAnswerInside: number;
  /** Answers other than 2xx/5xx (4xx), anywhere. */
  otherStatuses: number;
  faultMs: number;
  /** Per target: first 2xx answered for a request sent after the fault ended, ms after the end. */
  recoveredMs: (number | null)[];
  /** Every event acknowledged before the fault ended is in the snapshots, ms after the end. */
  snapshotsCaughtUpMs: number | null;
  /** Every acknowledged event is in the snapshots, ms after the load stopped. */
  snapshotsCompleteMs: number | null;
}

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

/** Tags present in the snapshots with their row and event-id counts. */
async function snapshotTags(
  root: string,
  topic: string,
  prefix: string,
): Promise<Map<string, { rows: number; ids: number }>> {
  const rows = await querySnapshots<{ tag: string; n: bigint; ids: bigint }>(
    root,
    `SELECT rec_id AS tag, count(*) AS n, count(DISTINCT event_id) AS ids FROM {source}
      WHERE starts_with(rec_id, ${sqlString(`${prefix}-`)}) GROUP BY rec_id`,
    [topic],
  );
  return new Map(rows.map((r) => [r.tag, { rows: Number(r.n), ids: Number(r.ids) }]));
}

async function busCovered(spec: ScenarioSpec): Promise<string | null> {
  try {
    const ends = await spec.endOffsets();
    const covered = await Promise.all(
      ends.map(async ({ partition, offset }) => ({
        partition,
        end: BigInt(offset),
        covered: await coveredOffset(spec.snapshotRoot, spec.topic, partition),
      })),
    );
    return covered.every((c) => c.covered >= c.end - 1n)
      ? covered.map((c) => `${c.partition}:${c.end}`).join(",")
      : null;
  } catch {
    return null;
  }
}

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioOutcome> {
  const prefix = `${spec.name}${Date.now().toString(36)}`;
  const ackFile = path.join(spec.workDir, `${spec.name}.acked`);
  const logFile = path.join(spec.workDir, `${spec.name}.answers.jsonl`);
  const job: LoadJob = {
    targets: spec.targets,
    key: spec.key,
    prefix,
    requestsPerSecond: 20,
    eventsPerRequest: 5,
    maxInFlight: 16,
    timeoutMs: 15_000,
    maxSeconds: 150,
    ackFile,
    logFile,
    users: USERS,
    items: ITEMS,
  };
  const generator = spawn(
    process.execPath,
    ["--import", "tsx", generatorScript, JSON.stringify(job)],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let summary = "";
  generator.stdout!.on("data", (chunk: Buffer) => (summary += chunk.toString()));
  const generatorExit = once(generator, "exit");
  const answers = () => readLines(logFile).map((line) => JSON.parse(line) as LoadLine);
  const ok = (line: LoadLine) => line.status >= 200 && line.status < 300;

  let times: FaultTimes;
  let loadEnd: number;
  let snapshotsCaughtUpAt: number | null = null;
  /** Tags the fault itself posted and had acknowledged (all before it ended). */
  const faultAcked: string[] = [];
  try {
    // Warm-up: the generator's start, then answers from every target before anything breaks.
    const warmStart = Date.now();
    while (spec.targets.some((_, t) => !answers().some((a) => a.target === t && ok(a)))) {
      if (generator.exitCode !== null) throw new Error(`load generator exited early: ${summary}`);
      if (Date.now() - warmStart > 60_000)
        throw new Error(
          `no 2xx from every api before the fault (answers: ${JSON.stringify(answers().slice(-5))})`,
        );
      await sleep(200);
    }
    await sleep(spec.warmupMs ?? 4_000);
    times = await spec.fault({
      tag: (n) => `${prefix}-burst-${n}`,
      acked: (tags) => {
        appendFileSync(ackFile, `${tags.join("\n")}\n`);
        faultAcked.push(...tags);
      },
    });

    // Load on until every target answered 2xx to a request sent after the fault ended, and the
    // minimum time after it; meanwhile, note when the events acked before the end are all stored.
    const ackedBeforeEnd = () => [
      ...faultAcked,
      ...answers()
        .filter((a) => ok(a) && a.at <= times.end)
        .flatMap((a) =>
          Array.from({ length: job.eventsPerRequest }, (_, j) => eventTag(prefix, a.n, j)),
        ),
    ];
    const recoveryDeadline = times.end + (spec.recoveryTimeoutMs ?? 90_000);
    for (;;) {
      const now = Date.now();
      const recovered = spec.targets.every((_, t) =>
        answers().some((a) => a.target === t && ok(a) && a.sentAt >= times.end),
      );
      if (snapshotsCaughtUpAt === null) {
        const stored = await snapshotTags(spec.snapshotRoot, spec.topic, prefix).catch(() => null);
        if (stored && ackedBeforeEnd().every((tag) => stored.has(tag)))
          snapshotsCaughtUpAt = Date.now();
      }
      if ((recovered && now >= times.end + (spec.afterFaultMs ?? 6_000)) || now > recoveryDeadline)
        break;
      await sleep(1_000);
    }
  } finally {
    generator.kill("SIGTERM");
    await generatorExit;
    loadEnd = Date.now();
  }

  // Settle: every acked event stored, or the snapshots cover the whole bus (and it stopped growing).
  const settleDeadline = loadEnd + (spec.settleTimeoutMs ?? 60_000);
  let snapshotsCompleteAt: number | null = null;
  // The bus's end offsets while the snapshots cover them all, and since when (null: not covered).
  let covered = { ends: "", since: 0 };
  const acked = readLines(ackFile);
  for (;;) {
    const stored = await snapshotTags(spec.snapshotRoot, spec.topic, prefix);
    const now = Date.now();
    if (acked.every((tag) => stored.has(tag))) {
      snapshotsCompleteAt = now;
      snapshotsCaughtUpAt ??= now;
      break;
    }
    const ends = await busCovered(spec);
    if (ends === null) covered = { ends: "", since: 0 };
    else if (ends !== covered.ends) covered = { ends, since: now };
    else if (now - covered.since >= 5_000) break;
    if (now > settleDeadline) break;
    await sleep(500);
  }
  // Counted after the settle, with the files as they are now.
  const stored = await snapshotTags(spec.snapshotRoot, spec.topic, prefix);
  const lines = answers();
  const recoveredAt = spec.targets.map(
    (_, t) =>
      lines
        .filter((a) => a.target === t && ok(a) && a.sentAt >= times.end)
        .sort((x, y) => x.at - y.at)[0]?.at ?? null,
  );
  const inside = (a: LoadLine) => {
    const until = recoveredAt[a.target] ?? Number.POSITIVE_INFINITY;
    return a.at >= times.start && a.sentAt <= until;
  };
  const count = (filter: (a: LoadLine) => boolean) => lines.filter(filter).length;
  let duplicateRows = 0;
  let duplicateEvents = 0;
  for (const { rows, ids } of stored.values()) {
    duplicateRows += rows - ids;
    duplicateEvents += ids - 1;
  }
  return {
    name: spec.name,
    requests: lines.length,
    acked: acked.length,
    missing: acked.filter((tag) => !stored.has(tag)).length,
    duplicateRows,
    duplicateEvents,
    fiveXxOutside: count((a) => a.status >= 500 && !inside(a)),
    noAnswerOutside: count((a) => a.status === 0 && !inside(a)),
    fiveXxInside: count((a) => a.status >= 500 && inside(a)),
    noAnswerInside: count((a) => a.status === 0 && inside(a)),
    otherStatuses: count((a) => a.status >= 300 && a.status < 500),
    faultMs: times.end - times.start,
    recoveredMs: recoveredAt.map((at) => (at === null ? null : at - times.end)),
    snapshotsCaughtUpMs: snapshotsCaughtUpAt === null ? null : snapshotsCaughtUpAt - times.end,
    snapshotsCompleteMs: snapshotsCompleteAt === null ? null : snapshotsCompleteAt - loadEnd,
  };
}

const seconds = (ms: number | null) => (ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`);

/** The fault table, one row per scenario, in markdown. */
export function faultTable(rows: (ScenarioOutcome & { label: string })[]): string {
  const header = [
    "| scenario | requests | acked events | missing acked (must be 0) | duplicates (must be 0) | 5xx / no answer outside outage (must be 0) | 5xx / no answer inside outage | fault lasted | first 2xx after fault end (per api) | snapshots hold all acked before fault end | all acked stored after load stop |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
  ];
  const body = rows.map(
    (r) =>
      `| ${r.label} | ${r.requests} | ${r.acked} | ${r.missing} | ${r.duplicateRows + r.duplicateEvents} | ${r.fiveXxOutside} / ${r.noAnswerOutside} | ${r.fiveXxInside} / ${r.noAnswerInside} | ${seconds(r.faultMs)} | ${r.recoveredMs.map(seconds).join(", ")} | ${seconds(r.snapshotsCaughtUpMs)} after fault end | ${seconds(r.snapshotsCompleteMs)} |`,
  );
  return [...header, ...body].join("\n");
}
