import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@reco/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RolloutService } from "../src/store/index.ts";
import {
  openTestDatabase,
  registerVersion,
  writeArmMinutes,
  writeArmUsers,
  healthyTraffic,
  type TestDatabase,
} from "./database.ts";

const child = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fixtures/controller-child.ts",
);

const healthy = healthyTraffic;

interface Controller {
  process: ChildProcess;
  output: () => string;
}

describe("rollout controller processes on one PostgreSQL (SIGKILL, SIGSTOP)", () => {
  let t: TestDatabase;
  let service: RolloutService;
  const running: Controller[] = [];
  let feeding: NodeJS.Timeout | undefined;
  let counter = 0;

  beforeAll(async () => {
    t = await openTestDatabase("postgres");
    service = new RolloutService(t.db.prisma, t.models);
  }, 120_000);
  afterEach(async () => {
    clearInterval(feeding);
    for (const c of running.splice(0)) {
      if (c.process.exitCode === null && c.process.signalCode === null) {
        c.process.kill("SIGCONT");
        const exited = once(c.process, "exit");
        c.process.kill("SIGKILL");
        await exited;
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  function startController(holder: string, env: Record<string, string> = {}): Controller {
    const proc = spawn(process.execPath, ["--import", "tsx", child], {
      env: { ...process.env, DATABASE_URL: t.url!, HOLDER: holder, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const c = { process: proc, output: () => output };
    running.push(c);
    return c;
  }

  async function startRollout(minDurationS: number) {
    const name = `p${++counter}`;
    await registerVersion(t, name, "v1", "stable");
    await registerVersion(t, name, "v2");
    const { rollout } = await service.start(
      {
        candidate: { name, version: "v2" },
        stages: [5, 50, 100].map((trafficPct) => ({
          trafficPct,
          minDurationS,
          minUsersPerArm: 100,
        })),
        gates: { latencyMinImpressions: 50, tuningUsers: 1_000, maxInconclusive: 1_000 },
        evaluationIntervalS: 1,
      },
      "key:eng",
    );
    // the stream worker's part: both arms keep serving, equally well
    await writeArmUsers(t.db, rollout.id, "stable", healthy);
    await writeArmUsers(t.db, rollout.id, "candidate", healthy);
    const feed = async () => {
      const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
      await writeArmMinutes(t.db, rollout.id, "stable", [minute], healthy);
      await writeArmMinutes(t.db, rollout.id, "candidate", [minute], healthy);
    };
    await feed();
    feeding = setInterval(() => void feed().catch(() => undefined), 2_000);
    return rollout.id;
  }

  function expectOneWriterAtATime(rows: { token: number }[]): void {
    for (let i = 1; i < rows.length; i++)
      expect(rows[i]!.token, `evaluation ${i}`).toBeGreaterThanOrEqual(rows[i - 1]!.token);
  }

  const evaluations = (id: number) =>
    t.db.prisma.rolloutEvaluation.findMany({
      where: { rolloutId: id },
      orderBy: { id: "asc" },
      select: { step: true, token: true, elapsedMs: true, createdAt: true },
    });

  it("killed mid-stage, the next leader finishes with no stage repeated or skipped; two at once, one writes", async () => {
    const id = await startRollout(4);
    const a = startController("a", { LEASE_TTL_MS: "5000" });
    const b = startController("b", { LEASE_TTL_MS: "5000" });
    // mid-stage: the second stage has run a while
    await waitFor(
      async () => {
        const view = await service.get(id);
        return view.step === 1 && view.stageElapsedMs > 1_500;
      },
      { timeoutMs: 60_000, description: "rollout in its second stage" },
    );
    const before = await evaluations(id);
    // one writer at a time: tokens never go back (a slow leader may lose its lease to the other,
    // but once a newer token wrote, an older one never writes again)
    expectOneWriterAtATime(before);
    // the leader now is the holder of the newest token
    const newest = before.at(-1)!.token;
    const holds = (c: Controller) => c.output().includes(`"token":${newest},`);
    const leader = holds(a) ? a : b;
    expect(holds(leader)).toBe(true);
    const exited = once(leader.process, "exit");
    leader.process.kill("SIGKILL");
    await exited;
    const elapsedAtKill = before.filter((e) => e.step === 1).at(-1)!.elapsedMs;
    await waitFor(async () => (await service.get(id)).status === "promoted", {
      timeoutMs: 90_000,
      description: "rollout promoted by the surviving controller",
    }).catch(async (error: Error) => {
      const d = await service.detail(id);
      throw new Error(
        `${error.message}\n${JSON.stringify({ status: d.status, step: d.step, events: d.events, last: d.evaluations.slice(-2) }, null, 1)}\nA:${a.output().slice(-1500)}\nB:${b.output().slice(-1500)}`,
      );
    });
    const detail = await service.detail(id);
    expect(detail.events.map((e) => `${e.action}@${e.step}`)).toEqual([
      "start@-1",
      "start_stage@0",
      "advance@1",
      "advance@2",
      "promote@2",
    ]);
    const all = await evaluations(id);
    const after = all.slice(before.length);
    expect(after[0]!.token).toBeGreaterThan(newest);
    expectOneWriterAtATime(all);
    // the same stage went on with its elapsed time, never back to zero
    const resumed = after.filter((e) => e.step === 1);
    if (resumed.length) expect(resumed[0]!.elapsedMs).toBeGreaterThanOrEqual(elapsedAtKill);
  }, 180_000);

  it("a leader frozen (SIGSTOP) past its lease between decision and write is fenced when it wakes", async () => {
    const id = await startRollout(600);
    const a = startController("frozen", { LEASE_TTL_MS: "1500", PAUSE_BEFORE_WRITE_MS: "400" });
    await waitFor(() => /before-write/.test(a.output()), {
      timeoutMs: 60_000,
      description: "controller about to write",
    });
    // stop it mid-write (it holds 400 ms after printing, so it has not written yet)
    a.process.kill("SIGSTOP");
    const frozenAt = new Date();
    const lastByA = (await evaluations(id)).at(-1)?.token;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const b = startController("successor", { LEASE_TTL_MS: "1500" });
    await waitFor(async () => (await evaluations(id)).some((e) => e.createdAt > frozenAt), {
      timeoutMs: 30_000,
      description: "successor writing",
    });
    const successorToken = (await evaluations(id)).at(-1)!.token;
    expect(lastByA === undefined || successorToken > lastByA).toBe(true);
    a.process.kill("SIGCONT");
    await waitFor(() => /"fenced":true/.test(a.output()), {
      timeoutMs: 15_000,
      description: "the woken leader's write refused",
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const late = (await evaluations(id)).filter((e) => e.createdAt > frozenAt);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((e) => e.token === successorToken)).toBe(true);
    expect(b.output()).not.toMatch(/"fenced":true/);
  }, 120_000);
});
