/**
 * The whole product as processes for the fault tests: the real api (`apps/api/src/main.ts`) and
 * stream worker (`apps/stream-worker/src/main.ts`) as child processes, over private PostgreSQL,
 * Redis and Kafka instances from @reco/testkit (never the shared services), or in embedded mode
 * (PGlite, file log, worker inside the api) as `npm start` runs it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, createWriteStream, existsSync, type WriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { IMPORT_TOPIC } from "@reco/importer";
import { ApiKeyStore } from "@reco/serving";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { freePort, waitFor } from "@reco/testkit";
import { publishStableIals } from "../fixtures.ts";

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((file) => existsSync(file));

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
export const ITEMS = 40;
export const USERS = 30;

/** Fails at once, naming what to install or start, when a service binary is missing. */
export function requireServiceBinaries(): void {
  const missing: string[] = [];
  const onPath = (name: string) =>
    (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  if (!onPath("redis-server")) missing.push("redis-server (not on PATH)");
  if (!onPath("java")) missing.push("java (not on PATH; the private Kafka broker runs on it)");
  if (!existsSync("/usr/lib/postgresql"))
    missing.push("PostgreSQL server binaries (no /usr/lib/postgresql/<version>/bin)");
  if (missing.length > 0)
    throw new Error(
      `whole-stack fault tests need real service binaries, missing: ${missing.join("; ")}. ` +
        "Install them with `bash scripts/services.sh up` (the tests start private instances of their own).",
    );
}

/**
 * A data directory and database ready to serve: a 40-item catalog, 30 users × 8 ratings in a
 * snapshot (under the import topic, as the demo import writes them, so no live offset is
 * shadowed), a small iALS model marked stable, and a client API key.
 */
export async function prepareData(options: {
  dataDir: string;
  databaseUrl?: string;
}): Promise<{ clientKey: string }> {
  const db = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
  try {
    await db.prisma.item.createMany({
      data: Array.from({ length: ITEMS }, (_, i) => ({
        externalId: String(i + 1),
        title: `Movie ${i + 1}`,
        genres: i % 2 ? ["Drama"] : ["Comedy"],
      })),
    });
    const ratings: RateEvent[] = [];
    for (let u = 0; u < USERS; u += 1) {
      for (let r = 0; r < 8; r += 1) {
        ratings.push({
          schemaVersion: SCHEMA_VERSION,
          eventId: `fixture-${u}-${r}`,
          eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, ratings.length % 60)).toISOString(),
          userId: `u${u}`,
          type: "rate",
          itemId: String(((u + r) % ITEMS) + 1),
          rating: 1 + (r % 5),
        });
      }
    }
    await writeSnapshot(
      path.join(options.dataDir, "snapshots"),
      {
        topic: IMPORT_TOPIC,
        partition: 0,
        firstOffset: 0n,
        lastOffset: BigInt(ratings.length - 1),
      },
      ratings.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
    );
    await publishStableIals(db, options.dataDir, ratings);
    const { key } = await new ApiKeyStore(db.prisma).create({ name: "load", role: "client" });
    return { clientKey: key };
  } finally {
    await db.close();
  }
}

/** One app process (api or worker), restartable with the same environment and port. */
export class AppProcess {
  #child: ChildProcess | undefined;
  #log: WriteStream;
  #tail = "";
  readonly logFile: string;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    logDir: string,
    /** Resolves once the process serves (throws until then). */
    private readonly ready: () => Promise<boolean>,
  ) {
    this.logFile = path.join(logDir, `${name}.log`);
    this.#log = createWriteStream(this.logFile, { flags: "a" });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The last lines it printed, for failure messages. */
  tail(): string {
    return this.#tail.split("\n").slice(-30).join("\n");
  }

  /** Spawns it (without waiting for it to serve). */
  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    // Only the services named here: the shared ones exported for other suites must not leak in.
    const inherited = { ...process.env };
    for (const name of [
      "KAFKA_BROKERS",
      "REDIS_URL",
      "DATABASE_URL",
      "S3_ENDPOINT",
      "S3_BUCKET",
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
      "S3_PREFIX",
    ])
      delete inherited[name];
    // `node --import tsx` (not the tsx CLI): a signal reaches main.ts itself, not a relaying parent.
    // setpriv (it execs node, same pid) makes the kernel kill it if the test process dies first.
    const node = [process.execPath, "--import", "tsx", this.script];
    const [command, ...args] = setpriv ? [setpriv, "--pdeathsig", "KILL", "--", ...node] : node;
    const child = spawn(command!, args, {
      cwd: repoRoot,
      env: { ...inherited, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#log.write(`--- ${new Date().toISOString()} spawned pid ${child.pid}\n`);
    const collect = (chunk: Buffer) => {
      this.#log.write(chunk);
      this.#tail = (this.#tail + chunk.toString()).slice(-6_000);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.once("exit", (code, signal) =>
      this.#log.write(`--- ${new Date().toISOString()} exited (${signal ?? `code ${code}`})\n`),
    );
    this.#child = child;
  }

  async waitReady(timeoutMs = 120_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running)
          throw new Error(
            `${this.name} exited while starting; log ${this.logFile}:\n${this.tail()}`,
          );
        return this.ready().catch(() => false);
      },
      { timeoutMs, intervalMs: 200, description: `${this.name} ready (log ${this.logFile})` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.tail()}`);
    });
  }

  async start(): Promise<void> {
    this.spawn();
    await this.waitReady();
  }

  /** SIGKILL (a crash) and wait until it has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    await new Promise((resolve) => this.#log.end(resolve));
  }
}

export const apiScript = path.join(repoRoot, "apps/api/src/main.ts");
export const workerScript = path.join(repoRoot, "apps/stream-worker/src/main.ts");

/** An api on its own port; ready once /readyz answers 200 (database and model). */
export async function apiProcess(
  name: string,
  env: Record<string, string>,
  logDir: string,
): Promise<{ app: AppProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = new AppProcess(
    name,
    apiScript,
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      TOPIC_PREFIX: "reco",
      LOG_LEVEL: "warn",
      // The load is bounded by the generator; the per-key bucket must not be what answers.
      RATE_LIMIT_RPS: "100000",
      RATE_LIMIT_BURST: "100000",
      SHUTDOWN_GRACE_MS: "0",
      ...env,
    },
    logDir,
    async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
  );
  return { app, url };
}

/** The standalone worker; ready once /healthz answers 200 (it runs and holds partitions). */
export async function workerProcess(
  env: Record<string, string>,
  logDir: string,
): Promise<AppProcess> {
  const port = await freePort();
  return new AppProcess(
    "worker",
    workerScript,
    { WORKER_PORT: String(port), TOPIC_PREFIX: "reco", LOG_LEVEL: "warn", ...env },
    logDir,
    async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok,
  );
}

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `whole-stack-${label}-`));
}
