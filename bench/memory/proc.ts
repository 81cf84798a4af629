/** A process's memory as the kernel counts it (Linux `/proc`), shared by the benchmarks that report it. */
import { readFileSync, writeFileSync } from "node:fs";

/** Resident set and its high-water mark, in bytes. */
export function residentMemory(pid: number | "self" = "self"): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)![1]) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Resets the process's VmHWM to its current RSS; false where the kernel does not allow it. */
export function resetHighWaterMark(pid: number | "self" = "self"): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
