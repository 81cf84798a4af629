import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports.ts";
import { repoRoot } from "./repo.ts";

/**
 * The whole product as `npm start` runs it, for journeys and benchmarks: a launcher in its own
 * process group, its output kept, readiness polled from outside (the api's /readyz 200 and the
 * dashboard answering), and a stop that ends the whole group.
 */

/** Whether `url` answers: 200 with `expect200`, else anything below 500. */
export async function answers(url: string, expect200: boolean): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return expect200 ? response.status === 200 : response.status < 500;
  } catch {
    return false;
  }
}

/** Two distinct free ports on 127.0.0.1, for the api and the dashboard. */
export async function productPorts(): Promise<{ apiPort: number; webPort: number }> {
  const apiPort = await freePort();
  let webPort = await freePort();
  while (webPort === apiPort) webPort = await freePort();
  return { apiPort, webPort };
}

/**
 * A copy of the checkout as a new user's clone holds it: the files git tracks, and the new ones it
 * does not ignore (what a commit of the working tree would hold: a new module is already imported
 * by tracked code), as they are in the working tree, in a new temporary directory. Nothing git
 * ignores comes along: no data directory, no dashboard build, no caches. Dependencies are not installed again (`npm ci` takes
 * minutes): `node_modules` (the root's and the workspaces' own) is copied as hard links to the
 * checkout's files, which costs about a second and no space. Hard links rather than a symlink
 * because a symlinked `node_modules` would resolve the `@reco/*` workspace links into the
 * checkout's packages, not the copy's, and the dashboard's bundler refuses links that leave the
 * project root. Last, the install's postinstall step runs (the Prisma client is generated into
 * packages/db, an untracked path). Returns the copy's directory; the caller removes it.
 */
export function copyCheckout({ from = repoRoot, prefix = "reco-copy-" } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const listed = spawnSync(
      "git",
      ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      { cwd: from, encoding: "utf8" },
    );
    if (listed.status !== 0) throw new Error(`git ls-files in ${from} failed: ${listed.stderr}`);
    for (const file of listed.stdout.split("\0")) {
      // a tracked file deleted in the working tree is not copied, as git would not check it out
      if (!file || !existsSync(path.join(from, file))) continue;
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      cpSync(path.join(from, file), path.join(dir, file), { preserveTimestamps: true });
    }
    const modules = [
      "node_modules",
      ...["apps", "packages"]
        .filter((group) => existsSync(path.join(from, group)))
        .flatMap((group) =>
          readdirSync(path.join(from, group), { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => path.join(group, entry.name, "node_modules")),
        ),
    ].filter((relative) => existsSync(path.join(from, relative)));
    for (const relative of modules) {
      const linked = spawnSync("cp", ["-al", path.join(from, relative), path.join(dir, relative)], {
        encoding: "utf8",
      });
      if (linked.status !== 0) throw new Error(`hard-linking ${relative} failed: ${linked.stderr}`);
    }
    const postinstall = spawnSync(process.execPath, ["scripts/postinstall.mjs"], {
      cwd: dir,
      encoding: "utf8",
    });
    if (postinstall.status !== 0)
      throw new Error(`postinstall in the copy failed: ${postinstall.stdout}${postinstall.stderr}`);
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface StartProductOptions {
  /** The checkout (or copy) to run `npm start` in. */
  cwd: string;
  apiPort: number;
  webPort: number;
  dataDir: string;
  /** More environment for the launcher (SIMULATE_*, RETRAIN_PARAMS, …). */
  env?: Record<string, string>;
  /** Give up waiting for readiness after this long (default 10 min). */
  readyTimeoutMs?: number;
  /** Characters of output kept (default 200,000): the tail is what a failure shows. */
  keepOutput?: number;
  /** Pause between readiness polls (default 100 ms; a benchmark timing the start polls faster). */
  pollMs?: number;
}

export interface RunningProduct {
  apiUrl: string;
  webUrl: string;
  dataDir: string;
  /** Seconds from the launcher's spawn until both answered. */
  readySeconds: number;
  /** The launcher's output (its children's, prefixed) so far; the last `chars` of it. */
  output(chars?: number): string;
  /** SIGINT to the whole group (as Ctrl-C in a terminal), SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * `node scripts/start.mjs` in `cwd`, on embedded defaults (no DATABASE_URL, REDIS_URL,
 * KAFKA_BROKERS from the caller's environment), with its own ports and data directory, as the
 * leader of a new process group. Resolves once the api's /readyz is 200 and the dashboard answers;
 * rejects (after stopping the group) when the launcher exits first or the timeout passes, with the
 * output's tail in the message.
 */
export async function startProduct(options: StartProductOptions): Promise<RunningProduct> {
  const { cwd, apiPort, webPort, dataDir, readyTimeoutMs = 600_000, pollMs = 100 } = options;
  const keep = options.keepOutput ?? 200_000;
  const began = performance.now();
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: "",
      REDIS_URL: "",
      KAFKA_BROKERS: "",
      S3_ENDPOINT: "",
      S3_BUCKET: "",
      API_INSTANCES: "",
      ...options.env,
      PORT: String(apiPort),
      WEB_PORT: String(webPort),
      DATA_DIR: dataDir,
    },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2 * keep) output = output.slice(-keep);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  // Should this process die without a stop (a killed test runner), the group goes with it.
  const killGroup = () => signalGroup(child, "SIGKILL");
  process.once("exit", killGroup);

  const tail = (chars = 4_000) => output.slice(-chars);
  let stopped: Promise<number | null> | undefined;
  const stop = (graceMs = 45_000) => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(child, "SIGINT");
        const killer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
        const code = await exited;
        clearTimeout(killer);
        // children that outlived the launcher (they should not) go too
        signalGroup(child, "SIGKILL");
        process.removeListener("exit", killGroup);
        return code;
      }
      signalGroup(child, "SIGKILL");
      process.removeListener("exit", killGroup);
      return exited;
    })();
    return stopped;
  };

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  let apiReady = false;
  let webReady = false;
  const deadline = began + readyTimeoutMs;
  while (!(apiReady && webReady)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `npm start exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready; its last output:\n${tail()}`,
      );
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(
        `npm start was not ready within ${readyTimeoutMs / 1000} s (api /readyz 200: ${apiReady}, dashboard: ${webReady}); its last output:\n${tail()}`,
      );
    }
    [apiReady, webReady] = await Promise.all([
      apiReady || answers(`${apiUrl}/readyz`, true),
      webReady || answers(`${webUrl}/`, false),
    ]);
    if (!(apiReady && webReady)) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return {
    apiUrl,
    webUrl,
    dataDir,
    readySeconds: (performance.now() - began) / 1000,
    output: tail,
    stop,
  };
}

/** A signal to the child's whole process group (it leads one: spawned detached). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
