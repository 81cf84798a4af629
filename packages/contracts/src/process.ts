import { readFileSync } from "node:fs";

/**
 * Whether `pid` is a running process, for pid-file locks (the embedded database, the file-log
 * bus). A process killed with SIGKILL stays signalable as a zombie until its parent (often init,
 * for a killed process group) reaps it, which can take a while: on Linux its state in /proc says
 * so, and a zombie holds no files, so it counts as dead.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false; // no /proc (not Linux), or gone since the signal check
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ")"
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state === "Z" || state === "X";
}
