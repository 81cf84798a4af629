/**
 * `node scripts/start.mjs` (what `npm start` runs) as a child process, for the tests that start
 * the whole product: its output collected, waited on, and stopped as Ctrl-C stops it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "@reco/testkit";

/** Embedded mode: the bucket that `npm test` exports for the S3 suites is not this suite's. */
const withoutS3 = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("S3_")),
);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export class Launcher {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.child = spawn(process.execPath, ["scripts/start.mjs", ...args], {
      cwd: repoRoot,
      env: { ...withoutS3, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    this.child.stdout!.on("data", collect);
    this.child.stderr!.on("data", collect);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the banner is printed; fails early (with the output) if the launcher exits. */
  async ready(timeoutMs: number): Promise<string> {
    await waitFor(
      () => {
        if (!this.running())
          throw new Error(`npm start exited before it was ready:\n${this.output.slice(-4000)}`);
        return this.output.includes("Press Ctrl-C to stop.");
      },
      { timeoutMs, intervalMs: 250, description: "the npm start banner" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- output ---\n${this.output.slice(-4000)}`);
    });
    return this.output.slice(this.output.lastIndexOf("Reco is running"));
  }

  /** The banner line starting with `label` (e.g. "API key (admin)"), without the label. */
  bannerLine(label: string): string {
    const banner = this.output.slice(this.output.lastIndexOf("Reco is running"));
    const line = banner.split("\n").find((l) => l.trimStart().startsWith(label));
    if (!line) throw new Error(`no "${label}" line in the banner:\n${banner}`);
    return line.trimStart().slice(label.length).trim();
  }

  /** Ctrl-C: SIGINT to the launcher, which stops its children and waits for them. */
  interrupt(): void {
    this.child.kill("SIGINT");
  }

  /**
   * Pids of the processes below the launcher (children and their children: tsx runs each script
   * in a child node process) whose command line contains `marker`.
   */
  descendants(marker: string): number[] {
    const found: number[] = [];
    const visit = (parent: number) => {
      const listed = spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(parent)], {
        encoding: "utf8",
      });
      for (const line of listed.stdout.split("\n").filter(Boolean)) {
        const pid = Number(line.trim().split(/\s+/)[0]);
        if (line.includes(marker)) found.push(pid);
        visit(pid);
      }
    };
    visit(this.pid);
    return found;
  }
}

/** `count` consecutive free ports (the launcher gives API_INSTANCES apis PORT, PORT+1, …). */
export async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    const probes = await Promise.all(
      Array.from({ length: count - 1 }, (_, i) => portIsFree(base + 1 + i)),
    );
    if (probes.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function portIsFree(port: number): Promise<boolean> {
  return import("node:net").then(
    ({ createServer }) =>
      new Promise((resolve) => {
        const server = createServer();
        server.once("error", () => resolve(false));
        server.listen({ host: "127.0.0.1", port, exclusive: true }, () =>
          server.close(() => resolve(true)),
        );
      }),
  );
}
