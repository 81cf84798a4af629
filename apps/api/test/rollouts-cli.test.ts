/**
 * `npm run rollout` end to end: the CLI runs as its own process (node --import tsx) against an
 * api started in-process on embedded PGlite, and talks to it over tRPC only.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ArmUsers } from "@reco/rollouts";
import { RolloutController } from "@reco/rollouts/store";
import { freePort } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRolloutsApi, type RolloutTestApi, type RolloutTestRole } from "./rollouts-fixture.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cliMain = path.join(root, "packages/rollouts/src/cli/main.ts");

const zeros = (n: number) => new Array<number>(n).fill(0);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("rollout CLI against the api (pglite)", () => {
  let api: RolloutTestApi;

  beforeAll(async () => {
    api = await startRolloutsApi();
    await api.registerVersion("base", "v1", "stable");
    for (const name of ["cli1", "cli2", "cli3"]) await api.registerVersion(name, "v1");
  }, 60_000);
  afterAll(async () => api?.close());

  /** Runs the CLI with the api's URL and a key of `role` (or the env given), like a shell would. */
  function cli(args: string[], options: { role?: RolloutTestRole; env?: NodeJS.ProcessEnv } = {}) {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      API_URL: api.url,
      RECO_API_KEY: api.keys[options.role ?? "engineer"],
      DATA_DIR: path.join(os.tmpdir(), "reco-cli-test-no-such-dir"),
      ...options.env,
    };
    return new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", cliMain, ...args], {
        cwd: root,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Per-user click sums of `n` users with 10 exposures and 1 or 2 clicks each. */
  function users(n: number): ArmUsers {
    return {
      n,
      exposures: 10 * n,
      clicks: 1.5 * n,
      exposuresSq: 100 * n,
      clicksSq: 2.5 * n,
      cross: 15 * n,
    };
  }

  it("starts, shows the status, pauses, resumes, refuses a stale version with 409, and aborts", async () => {
    const engineer = `key:${api.prefixes.engineer}`;
    const started = await cli([
      "start",
      "--candidate",
      "cli1@v1",
      "--stages",
      "5,50,100",
      "--min-duration",
      "600",
      "--min-users",
      "150",
      "--interval",
      "1",
      "--reason",
      "cli canary",
    ]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      "against base@v1, stages 5 % → 50 % → 100 % (pending; the controller starts stage 1)",
    );
    const id = Number(/started rollout (\d+): cli1@v1/.exec(started.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);
    const stored = await api.rollouts.get(id);
    expect(stored.stages).toEqual([
      { trafficPct: 5, minDurationS: 600, minUsersPerArm: 150 },
      { trafficPct: 50, minDurationS: 600, minUsersPerArm: 150 },
      { trafficPct: 100, minDurationS: 600, minUsersPerArm: 150 },
    ]);
    expect(stored.evaluationIntervalMs).toBe(1_000);

    const pending = await cli(["status", String(id)], { role: "viewer" });
    expect(pending.code).toBe(0);
    expect(pending.stdout).toContain(
      `rollout ${id}  cli1@v1 against base@v1  pending  (version 0)`,
    );
    expect(pending.stdout).toContain("stage 0/3 (not started); the candidate serves 0 % of users");
    expect(pending.stdout).toMatch(
      new RegExp(`start\\s+–\\s+→ pending\\s+${engineer}  cli canary`),
    );

    const paused = await cli(["pause", String(id), "--reason", "hold for the release"]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain(`rollout ${id}: pause done, now paused`);
    const resumed = await cli(["resume", String(id)]);
    expect(resumed.stdout).toContain(
      `rollout ${id}: resume done, now progressing, stage 1/3 at 5 %`,
    );

    // one controller evaluation with fixed figures: the status shows each gate against its threshold
    const controller = new RolloutController(api.db.prisma, api.rollouts, {
      readStats: async () => ({
        // latencies per bucket (bucket i ends at 2^(i/4) ms): the candidate's 1,000 in bucket 20,
        // (26.9, 32]; stable's 19,000 in bucket 18, (19.0, 22.6]
        candidate: { impressions: 1_000, errors: 2, latencyCounts: [...zeros(20), 1_000] },
        stable: { impressions: 19_000, errors: 30, latencyCounts: [...zeros(18), 19_000] },
        candidateUsers: users(200),
        stableUsers: users(3_800),
        minutes: 5,
      }),
    });
    try {
      expect((await controller.tick()).evaluated).toBe(1);
    } finally {
      await controller.stop();
    }
    const running = await cli(["status", String(id)]);
    expect(running.code).toBe(0);
    const out = running.stdout;
    expect(out).toContain("stage 1/3 at 5 %; the candidate serves 5 % of users");
    expect(out).toMatch(/elapsed \d+ s of at least 10 min 0 s/);
    expect(out).toContain("users candidate 200 / 150, stable 3,800 / 150");
    expect(out).toMatch(
      /error_rate\s+\w+\s+candidate 0\.200 %\s+stable 0\.158 %\s+threshold ≤ 1\.158 %/,
    );
    // p99s interpolated in their buckets: 2^(19/4)·2^(0.99/4) = 31.9 and 2^(17/4)·2^(0.99/4) = 22.6
    // ms; the threshold 22.6 × 1.25 + 5 = 33.2 ms, at the nearest bucket bound 2^(20/4) = 32 ms
    expect(out).toMatch(
      /latency_p99\s+\w+\s+candidate 31\.9 ms\s+stable 22\.6 ms\s+threshold ≤ 32\.0 ms\s+slower than the threshold \[-?\d+\.\d\d, \d+\.\d\d\] %/,
    );
    expect(out).toMatch(
      /click_through\s+\w+\s+candidate 15\.00 %\s+stable 15\.00 %\s+threshold ≥ 14\.25 %\s+interval \[/,
    );
    expect(out).toMatch(
      new RegExp(`pause\\s+pending\\s+→ paused\\s+${engineer}  hold for the release`),
    );
    expect(out).toMatch(new RegExp(`resume\\s+paused\\s+→ progressing\\s+${engineer}`));
    expect(out).toContain("actions now: promote, promote-full, pause, abort, rollback");

    const json = await cli(["status", String(id), "--json"]);
    const detail = JSON.parse(json.stdout) as { version: number; evaluations: unknown[] };
    expect(detail.evaluations).toHaveLength(1);

    const stale = await cli(["abort", String(id), "--version", "0"]);
    expect(stale.code).not.toBe(0);
    expect(stale.stdout).toBe("");
    expect(stale.stderr.trim()).toBe(
      `error: 409 conflict: rollout ${id} changed since version 0 (now version ${detail.version}, progressing); reload and decide again`,
    );
    expect((await api.rollouts.get(id)).status).toBe("progressing");

    const aborted = await cli(["abort", String(id), "--reason", "enough", "--json"]);
    expect(aborted.code).toBe(0);
    expect(JSON.parse(aborted.stdout)).toMatchObject({ id, status: "aborted" });
    const audit = (await api.rollouts.detail(id)).events.at(-1);
    expect(audit).toMatchObject({ action: "abort", actor: engineer, reason: "enough" });
  });

  it("lists for a viewer, and refuses a viewer's action with the api's 403 message", async () => {
    const started = await cli(["start", "--candidate", "cli2@v1", "--json"]);
    const { rollout } = JSON.parse(started.stdout) as { rollout: { id: number } };
    const list = await cli(["list", "--model", "cli2"], { role: "viewer" });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^id\s+model\s+candidate vs baseline\s+status\s+stage/);
    expect(list.stdout).toMatch(
      new RegExp(`\\n${rollout.id}\\s+cli2\\s+cli2@v1 vs base@v1\\s+pending`),
    );
    const refused = await cli(["pause", String(rollout.id)], { role: "viewer" });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe("error: 403 forbidden: needs role engineer, key has viewer");
    expect((await api.rollouts.get(rollout.id)).status).toBe("pending");
  });

  it("names the flag at fault, before or after asking the api", async () => {
    const cases: [string[], RegExp][] = [
      [["start", "--candidate", "cli3"], /^error: --candidate: expected name@version/],
      [["start"], /^error: --candidate: is required/],
      [["start", "--candidate", "cli3@v1", "--bogus"], /Unknown option '--bogus'/],
      [
        ["start", "--candidate", "cli3@v1", "--stages", "5,abc"],
        /^error: --stages: expected percentages/,
      ],
      [
        ["start", "--candidate", "cli3@v1", "--stages", "50,20,100"],
        /^error: --stages \(stages\[1\]\.trafficPct\): must be above the previous stage's 50/,
      ],
      [
        ["start", "--candidate", "cli3@v1", "--interval", "0"],
        /^error: --interval: must be between 1 and 86400/,
      ],
      [
        ["start", "--candidate", "cli3@v1", "--webhook", "ftp://x"],
        /^error: --webhook \(webhookUrl\): must be an http/,
      ],
      [
        ["start", "--candidate", "nope@v9"],
        /^error: --candidate \(candidate\): model nope version v9 is not registered/,
      ],
      [["pause"], /^error: pause needs a rollout id/],
      [
        ["pause", "abc"],
        /^error: pause: the rollout id must be a positive whole number, got "abc"/,
      ],
      [["abort", "1", "--version", "x"], /^error: --version: expected a whole number/],
      [["list", "--status", "done"], /^error: --status: must be one of pending, progressing/],
      [["frobnicate"], /^error: unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code, stderr: run.stderr }).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(message),
      });
    }
    expect(await api.db.prisma.rollout.count({ where: { modelName: "cli3" } })).toBe(0);
    const missing = await cli(["status", "99999"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: 404 not found: rollout "99999" not found');
    const help = await cli(["start", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--candidate name@version");
  });

  it("says which URL is unreachable, where a rejected key came from, and reads the dev key file", async () => {
    const port = await freePort();
    const down = await cli(["list"], { env: { API_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(
      `error: api unreachable at http://127.0.0.1:${port} (ECONNREFUSED): is it running? (set API_URL to reach another)`,
    );
    const badKey = await cli(["list"], { env: { RECO_API_KEY: "reco_nope" } });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr.trim()).toBe(
      "error: 401 unauthorized: API key unknown or revoked (key from RECO_API_KEY)",
    );

    const dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-cli-"));
    try {
      const noKey = await cli(["list"], { env: { RECO_API_KEY: "", DATA_DIR: dataDir } });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain(`no API key: set RECO_API_KEY`);
      expect(noKey.stderr).toContain(path.join(dataDir, "dev-api-key"));
      await writeFile(path.join(dataDir, "dev-api-key"), `${api.keys.viewer}\n`);
      const fromFile = await cli(["list", "--json"], {
        env: { RECO_API_KEY: "", DATA_DIR: dataDir },
      });
      expect(fromFile.code).toBe(0);
      expect(Array.isArray(JSON.parse(fromFile.stdout))).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
