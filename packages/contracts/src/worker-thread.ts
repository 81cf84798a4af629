import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type TransferListItem, type WorkerOptions } from "node:worker_threads";
import { disableOnnxRuntimeTelemetry } from "./onnxruntime-telemetry.ts";
import { freshBundle } from "./thread-bundles.ts";

let tsxApi: string | undefined;

/** The file URL of tsx's ESM API, resolved once. */
function tsxApiUrl(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (
    require(manifest) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  tsxApi = pathToFileURL(
    path.join(path.dirname(manifest), exports["./esm/api"]!.import.default),
  ).href;
  return tsxApi;
}

/** Each entry's fresh bundle (or undefined: none), decided once per process. */
const bundles = new Map<string, string | undefined>();

/**
 * A worker thread running a TypeScript module: from its JavaScript bundle when `npm ci` or
 * `npm start` built one from the sources as they are (thread-bundles.ts) — a thread that registers
 * tsx costs ~20 MB more (its own loader and transformed modules; bench/memory: an api at rest
 * with its three threads 735/745 → 679/673 MB) — else through tsx. On Node 20,
 * tsx's `--import` hooks are not installed in worker threads (execArgv alone fails with
 * ERR_UNKNOWN_FILE_EXTENSION), so a tiny bootstrap registers tsx's ESM API inside the thread and
 * then imports `entry`.
 */
export function typeScriptWorker(entry: URL, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  disableOnnxRuntimeTelemetry(); // the thread may load onnxruntime: only this thread can opt out
  if (!bundles.has(entry.href)) bundles.set(entry.href, freshBundle(fileURLToPath(entry)));
  const bundle = bundles.get(entry.href);
  // Started from evaluated code, as the tsx bootstrap is: such a thread keeps the process's node
  // flags (--expose-gc…) but not its preloads (`--import tsx`, a benchmark's probe), which plain
  // JavaScript needs not load — and a TypeScript preload fails in a thread on Node 20.
  if (bundle)
    return new Worker(`import(${JSON.stringify(pathToFileURL(bundle).href)});`, {
      ...options,
      eval: true,
    });
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Request/reply over one worker thread: each call is posted with a fresh `id`, and the thread's
 * message carrying that id settles it. Once the thread fails or exits, the calls in flight and
 * every later call reject with that error (the owner starts a new thread if it wants one). The
 * thread never keeps the process alive, except while a call is in flight when `refWhileWaiting`.
 */
export class ThreadCalls<Reply extends { id: number }> {
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failed: Error | null = null;
  /** Called once no call is in flight any more (see `drain`). */
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    readonly worker: Worker,
    name: string,
    private readonly refWhileWaiting = false,
  ) {
    worker.on("message", (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (refWhileWaiting && this.pending.size === 0) worker.unref();
      waiter?.resolve(reply);
      if (this.pending.size === 0) this.notifyIdle();
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`${name} exited with code ${code}`)));
    worker.unref();
  }

  /** The error that ended the thread, or null while it serves. */
  get failure(): Error | null {
    return this.failed;
  }

  call(message: object, transfer?: readonly TransferListItem[]): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.refWhileWaiting && this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /**
   * Resolves once no call is in flight (or after `timeoutMs`, or when the thread fails): a thread
   * stopped in the middle of a native call can abort the whole process (onnxruntime-node does:
   * "terminate called after throwing an instance of 'Napi::Error'"), so owners drain first.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0 || this.failed) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (drained: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(drained);
      };
      const onIdle = () => finish(true);
      this.idleWaiters.add(onIdle);
    });
  }

  /**
   * Asks the thread to end itself with `message` (it exits when done) and waits up to `timeoutMs`
   * for it to exit before terminating it; the calls in flight reject with `reason`.
   */
  async closeGracefully(message: object, reason: Error, timeoutMs: number): Promise<void> {
    if (!this.failed) {
      this.worker.removeAllListeners("exit");
      // Held while it ends: an unreferenced thread (as it is between calls) would let a process
      // with nothing else to do exit before the thread did, leaving this await unsettled.
      this.worker.ref();
      const exited = new Promise<boolean>((resolve) => {
        this.worker.once("exit", () => resolve(true));
        setTimeout(() => resolve(false), timeoutMs).unref();
      });
      this.worker.postMessage({ ...message, id: -1 });
      if (await exited) {
        this.fail(reason);
        return;
      }
    }
    await this.close(reason);
  }

  /** Stops the thread; the calls in flight reject with `reason`. */
  async close(reason: Error): Promise<void> {
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
    this.fail(reason);
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    for (const waiter of [...this.idleWaiters]) waiter();
  }
}
