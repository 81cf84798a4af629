import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

function collector(): () => void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  return collect;
}

/**
 * One full garbage collection on this thread, after the current task. V8 collects as a thread
 * allocates; a process at rest allocates nothing, so what a start-up or a model load left behind
 * stays resident until traffic comes: on the inference thread, a model file's bytes (the demo's
 * item-kNN: 22 MB) outlive the session made from them. For the moments a thread goes idle after
 * such work, never per request. `--expose-gc` is set for this process when first needed; the
 * collector is taken from a fresh context, where the flag puts it.
 */
export function collectGarbageSoon(): void {
  setTimeout(collector(), 0).unref();
}

export interface IdleCollectionOptions {
  /** How often the event loop's utilisation is read. */
  checkEveryMs?: number;
  /** A check with the loop busy less than this fraction of the time is a quiet one. */
  quietBelow?: number;
  /**
   * Busy time since the last full collection that makes another worth it: a periodic refresh of
   * a few hundred milliseconds is not, a model load or a burst of requests is.
   */
  workMs?: number;
  /** Heap growth since the last full collection that also counts as work (slow steady traffic). */
  growthBytes?: number;
  /**
   * Quiet time before the full collection. V8 gives its young generation back (16 MB a
   * semi-space) only when a collection finds that the thread allocated little over its last ~5 s
   * of collections, so a young-generation collection (~1 ms) at the first quiet check closes the
   * busy spell's sample, and the full one comes this long after it.
   */
  quietBeforeFullMs?: number;
  /** Called after each full collection, with the heap's committed bytes before and after. */
  onCollected?: (before: number, after: number) => void;
}

/**
 * A full collection each time this thread goes quiet after work (start-up, a model load, a burst
 * of requests): what the work left stays resident otherwise until V8's memory reducer comes, 20–50
 * s later or not at all (measured on the api at rest). A busy thread is never interrupted by it: it
 * waits for quiet checks in a row. Returns a stop function; its timer never keeps the process alive.
 */
export function collectGarbageWhenIdle(options: IdleCollectionOptions = {}): () => void {
  const checkEveryMs = options.checkEveryMs ?? 1_000;
  const quietBelow = options.quietBelow ?? 0.05;
  const workMs = options.workMs ?? 1_000;
  const growthBytes = options.growthBytes ?? 16 * 1024 * 1024;
  const quietChecksBeforeFull = 1 + Math.ceil((options.quietBeforeFullMs ?? 5_500) / checkEveryMs);
  // Node 20's V8 runs `gc({ type: "major" })` as a young-generation collection: a full one is `gc()`.
  const gc = collector() as (options?: { type: "minor" }) => void;
  let last = performance.eventLoopUtilization();
  let quiet = 0;
  let busyMs = workMs; // start-up is work
  let committedAfter = v8.getHeapStatistics().total_heap_size;
  const timer = setInterval(() => {
    const { utilization, active } = performance.eventLoopUtilization(last);
    const committed = v8.getHeapStatistics().total_heap_size;
    const worked = busyMs >= workMs || committed > committedAfter + growthBytes;
    if (utilization >= quietBelow) {
      busyMs += active;
      quiet = 0;
    } else if (worked && ++quiet === 1) {
      gc({ type: "minor" });
    } else if (worked && quiet >= quietChecksBeforeFull) {
      gc();
      busyMs = 0;
      quiet = 0;
      committedAfter = v8.getHeapStatistics().total_heap_size;
      options.onCollected?.(committed, committedAfter);
    }
    // The collections' own time is not the thread's work.
    last = performance.eventLoopUtilization();
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
