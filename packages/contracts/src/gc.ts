import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/**
 * One full garbage collection on this thread, after the current task. V8 collects as a thread
 * allocates; a process at rest allocates nothing, so what a start-up or a model load left behind
 * stays resident until traffic comes: on the inference thread, a model file's bytes (the demo's
 * item-kNN: 22 MB) outlive the session made from them. For the moments a thread goes idle after
 * such work, never per request. `--expose-gc` is set for this process when first needed; the
 * collector is taken from a fresh context, where the flag puts it.
 */
export function collectGarbageSoon(): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  setTimeout(collect, 0).unref();
}
