import { spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How to run one private service process and tell when it answers. */
export interface ProcessSpec {
  /** For messages, e.g. "private redis on 127.0.0.1:41234". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** stdout and stderr are appended here; its tail explains a failed start. */
  readonly logFile: string;
  /** Signal for a clean stop (SIGTERM, or SIGINT for PostgreSQL's fast shutdown). */
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** Resolves once the service answers; throws (and is retried) until then. */
  readonly ready: () => Promise<unknown>;
  readonly readyTimeoutMs: number;
}

/** What every private service handle offers. */
export interface PrivateProcess {
  /** pid of the current (or last) process. */
  readonly pid: number;
  readonly running: boolean;
  /** Log file of the service, for diagnosing a test. */
  readonly logFile: string;
  /** Clean shutdown; waits until the process has exited. Data stays for restart(). */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL: a crash) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the process and its descendants (SIGSTOP): connections hang instead of failing. */
  pause(): void;
  /** Undoes pause() (SIGCONT). */
  resume(): void;
  /** Starts the service again on the same port and data, stopping it first if running. */
  restart(): Promise<void>;
  /** Stops the service and deletes its data. */
  dispose(): Promise<void>;
}

const live = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => existsSync(path));

const TEMP_PREFIX = "reco-testkit-";

/**
 * A temp directory deleted when the test process exits (or by dispose()). Its name carries the
 * owner's pid, so dirs left by a test process that was SIGKILLed are swept by the next one.
 */
export function makeTempDir(label: string): string {
  installExitCleanup();
  const dir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-${label}-`));
  tempDirs.add(dir);
  return dir;
}

function sweepOrphanedTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = name.startsWith(TEMP_PREFIX)
      ? Number(name.slice(TEMP_PREFIX.length).split("-")[0])
      : NaN;
    if (!Number.isInteger(owner) || owner === process.pid || existsSync(`/proc/${owner}`)) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // Another user's leftovers: not ours to delete.
    }
  }
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Tail of a log file, for error messages. */
export function logTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ManagedProcess implements PrivateProcess {
  readonly #spec: ProcessSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;
  #dataDir: string | undefined;

  constructor(spec: ProcessSpec, dataDir?: string) {
    this.#spec = spec;
    this.#dataDir = dataDir;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  get running(): boolean {
    const child = this.#child;
    return (
      child !== undefined &&
      child.pid !== undefined &&
      child.exitCode === null &&
      child.signalCode === null
    );
  }

  get logFile(): string {
    return this.#spec.logFile;
  }

  async start(): Promise<void> {
    if (this.running) return;
    installExitCleanup();
    const spec = this.#spec;
    // setpriv makes the kernel kill the service if the test process dies without cleaning up
    // (vitest killing a worker, SIGKILL): no orphaned brokers on fixed ports.
    const [command, args] = setpriv
      ? [setpriv, ["--pdeathsig", "KILL", "--", spec.command, ...spec.args]]
      : [spec.command, [...spec.args]];
    const log = openSync(spec.logFile, "a");
    let child: ChildProcess;
    try {
      // detached: its own process group, so signals reach PostgreSQL's backends too.
      child = spawn(command, args, {
        stdio: ["ignore", log, log],
        env: spec.env ?? process.env,
        uid: spec.uid,
        gid: spec.gid,
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    this.#paused = false;
    live.add(this);
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        spawnError = error;
        resolve();
      });
      child.once("exit", () => resolve());
    }).then(() => {
      live.delete(this);
    });
    await this.#awaitReady(() => spawnError);
  }

  async #awaitReady(spawnError: () => Error | undefined): Promise<void> {
    const spec = this.#spec;
    const deadline = Date.now() + spec.readyTimeoutMs;
    let lastError: unknown;
    for (;;) {
      if (!this.running) {
        const child = this.#child;
        const how =
          spawnError()?.message ?? `exit code ${child?.exitCode}, signal ${child?.signalCode}`;
        throw new Error(
          `${spec.name} exited before answering (${how}). Log ${spec.logFile}:\n${logTail(spec.logFile)}`,
        );
      }
      try {
        await spec.ready();
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        await this.kill("SIGKILL");
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        throw new Error(
          `${spec.name} did not answer within ${spec.readyTimeoutMs} ms (${reason}). Log ${spec.logFile}:\n${logTail(spec.logFile)}`,
        );
      }
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.#signal(this.#spec.stopSignal);
    if (this.#paused) this.resume();
    if (await this.#exitWithin(this.#spec.stopTimeoutMs)) return;
    this.#signal("SIGKILL");
    await this.#exited;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running) return;
    this.#signal(signal);
    if (this.#paused && signal !== "SIGKILL") this.resume();
    if (!(await this.#exitWithin(this.#spec.stopTimeoutMs))) {
      throw new Error(
        `${this.#spec.name} (pid ${this.pid}) still runs ${this.#spec.stopTimeoutMs} ms after ${signal}`,
      );
    }
  }

  pause(): void {
    if (!this.running) throw new Error(`${this.#spec.name} is not running`);
    this.#signal("SIGSTOP");
    this.#signalDescendants("SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    if (!this.running) return;
    this.#signalDescendants("SIGCONT");
    this.#signal("SIGCONT");
    this.#paused = false;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.#dataDir) removeTempDir(this.#dataDir);
  }

  /** Signals the process group this handle started, and nothing else. */
  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * Signals every descendant process too: PostgreSQL's backends call setsid(), so a signal to the
   * postmaster's group leaves the connections already open running (a "frozen" server that still
   * answers its pooled clients). Descendants are found through /proc (Linux).
   */
  #signalDescendants(signal: NodeJS.Signals): void {
    const root = this.#child?.pid;
    if (root === undefined) return;
    const parents = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")"
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // exited meanwhile
      }
    }
    const found = new Set([root]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, parent] of parents)
        if (found.has(parent) && !found.has(pid)) {
          found.add(pid);
          grew = true;
        }
    }
    found.delete(root);
    for (const pid of found) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  async #exitWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.#exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return exited;
  }

  /** Synchronous last resort when the test process exits. */
  killNow(): void {
    this.#signal("SIGKILL");
  }
}

let cleanupInstalled = false;

function installExitCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  sweepOrphanedTempDirs();
  process.once("exit", cleanUpEverything);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // Only when nobody else handles the signal: then its default action (exit) is kept.
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      cleanUpEverything();
      process.kill(process.pid, signal);
    });
  }
}

function cleanUpEverything(): void {
  for (const service of live) service.killNow();
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
