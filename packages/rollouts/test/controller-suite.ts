import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "@reco/testkit";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RolloutValidationError } from "../src/index.ts";
import {
  countTransitions,
  LeaseLost,
  RolloutController,
  RolloutRouting,
  RolloutService,
  WebhookSender,
} from "../src/store/index.ts";
import {
  openTestDatabase,
  registerVersion,
  writeArmData,
  healthyTraffic,
  responsesIn,
  type ArmTraffic,
  type DatabaseKind,
  type TestDatabase,
} from "./database.ts";

const STAGES = [
  { trafficPct: 5, minDurationS: 60, minUsersPerArm: 100 },
  { trafficPct: 50, minDurationS: 60, minUsersPerArm: 100 },
  { trafficPct: 100, minDurationS: 60, minUsersPerArm: 100 },
];
const GATES = { maxInconclusive: 3, latencyMinImpressions: 50, tuningUsers: 2_000 };

const healthy = healthyTraffic;

export function runControllerSuite(kind: DatabaseKind): void {
  describe(`rollout service and controller (${kind})`, () => {
    let t: TestDatabase;
    let service: RolloutService;
    let counter = 0;
    const metrics = new Registry();
    let clock = Date.now();
    const controllers: RolloutController[] = [];

    beforeAll(async () => {
      t = await openTestDatabase(kind);
      service = new RolloutService(t.db.prisma, t.models, { now: () => clock });
      countTransitions(service, metrics);
    }, 120_000);
    afterEach(async () => {
      for (const c of controllers.splice(0)) await c.stop();
      // each test judges its own rollout alone
      await t.db.prisma.rollout.updateMany({
        where: { status: { in: ["pending", "progressing", "paused"] } },
        data: { status: "aborted" },
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    /** A model name of its own per test, with a stable baseline and a candidate. */
    async function versions() {
      const name = `m${++counter}`;
      await registerVersion(t, name, "v1", "stable");
      await registerVersion(t, name, "v2");
      return { name, candidate: { name, version: "v2" }, baseline: { name, version: "v1" } };
    }

    function controller(options: ConstructorParameters<typeof RolloutController>[2] = {}) {
      const c = new RolloutController(t.db.prisma, service, {
        leaseTtlMs: 60_000,
        now: () => clock,
        ...options,
      });
      controllers.push(c);
      return c;
    }

    async function startRollout(gates: Record<string, number> = {}) {
      const v = await versions();
      const { rollout } = await service.start(
        {
          candidate: v.candidate,
          baseline: v.baseline,
          stages: STAGES,
          gates: { ...GATES, ...gates },
          evaluationIntervalS: 1,
        },
        "key:eng",
      );
      return { ...v, id: rollout.id };
    }

    const minute = () => new Date(Math.floor(clock / 60_000) * 60_000);

    async function feed(id: number, candidate: Partial<ArmTraffic> = {}, stable = healthy) {
      await writeArmData(t.db, id, "stable", [minute()], stable);
      await writeArmData(t.db, id, "candidate", [minute()], { ...healthy, ...candidate });
    }

    async function auditOf(id: number) {
      return (await service.detail(id)).events.map((e) => `${e.action}:${e.toStatus}@${e.step}`);
    }

    it("starts with defaults filled, refuses bad input naming the field, and stores nothing then", async () => {
      const v = await versions();
      const before = await t.db.prisma.rollout.count();
      await expect(
        service.start(
          { candidate: v.candidate, stages: [{ trafficPct: 50 }, { trafficPct: 20 }] },
          "key:eng",
        ),
      ).rejects.toThrow(/stages\[1\]\.trafficPct: must be above the previous stage's 50/);
      await expect(
        service.start({ candidate: { name: v.name, version: "nope" } }, "key:eng"),
      ).rejects.toBeInstanceOf(RolloutValidationError);
      await expect(service.start({ candidate: v.baseline }, "key:eng")).rejects.toThrow(
        /candidate: .* is stable/,
      );
      expect(await t.db.prisma.rollout.count()).toBe(before);
      const { rollout } = await service.start({ candidate: v.candidate }, "key:eng");
      expect(rollout).toMatchObject({ status: "pending", step: -1, trafficPct: 0 });
      expect(rollout.stages.map((s) => s.trafficPct)).toEqual([5, 50, 100]);
      expect(rollout.baseline).toMatchObject({ name: v.name, version: "v1" });
      await expect(service.start({ candidate: v.candidate }, "key:eng")).rejects.toMatchObject({
        code: "CONFLICT",
      });
    });

    it("refuses a candidate that serves in a running experiment (409)", async () => {
      const v = await versions();
      const candidate = await t.models.find(v.name, "v2");
      await t.db.prisma.experiment.create({
        data: {
          key: `exp-${v.name}`,
          seed: "s",
          status: "running",
          variants: {
            create: [
              { name: "a", weight: 50, isControl: true, strategy: "default" },
              { name: "b", weight: 50, modelVersionId: candidate!.id },
            ],
          },
        },
      });
      await expect(service.start({ candidate: v.candidate }, "key:eng")).rejects.toThrow(
        /serves variant "b" of experiment "exp-m\d+" \(running\)/,
      );
    });

    it("promotes a good candidate through every stage; the audit shows each stage once, in order", async () => {
      const { id, name } = await startRollout();
      const c = controller();
      await c.tick();
      expect((await service.get(id)).status).toBe("progressing");
      expect((await t.models.find(name, "v2"))?.stage).toBe("canary");
      for (let i = 0; i < 12 && (await service.get(id)).status === "progressing"; i++) {
        await feed(id);
        clock += 61_000;
        await c.tick();
      }
      const view = await service.get(id);
      expect(view.status).toBe("promoted");
      expect((await t.models.servingVersion())?.version).toBe("v2");
      expect((await t.models.servingVersion())?.name).toBe(name);
      expect(await auditOf(id)).toEqual([
        "start:pending@-1",
        "start_stage:progressing@0",
        "advance:progressing@1",
        "advance:progressing@2",
        "promote:promoted@2",
      ]);
      // undo after promotion: the previous stable serves again, the candidate is retired
      await service.act({ id, action: "undo", expectedVersion: view.version, actor: "key:eng" });
      expect((await t.models.servingVersion())?.version).toBe("v1");
      expect((await t.models.find(name, "v2"))?.stage).toBe("retired");
    });

    it("rolls back a candidate answering 20 % errors in the first stage", async () => {
      const { id, name } = await startRollout();
      const c = controller();
      await c.tick();
      await feed(id, { failuresPerMinute: 200 });
      clock += 5_000;
      await c.tick();
      const detail = await service.detail(id);
      expect(detail).toMatchObject({ status: "rolled_back", step: 0 });
      const last = detail.events.at(-1)!;
      expect(last).toMatchObject({ action: "rollback", actor: "controller" });
      expect(last.reason).toMatch(/error_rate/);
      expect(last.details).toMatchObject({ gates: { error_rate: { verdict: "fail" } } });
      expect((await t.models.find(name, "v2"))?.stage).toBe("retired");
      expect((await t.models.servingVersion())?.version).toBe("v1");
      // the exported counter agrees with the audit log, status by status, for this model
      const audited: Record<string, number> = {};
      for (const e of detail.events) audited[e.toStatus] = (audited[e.toStatus] ?? 0) + 1;
      const exported: Record<string, number> = {};
      for (const { labels, value } of (await metrics.getMetricsAsJSON()).find(
        (m) => m.name === "reco_rollout_transitions_total",
      )!.values)
        if (labels.model === name) exported[String(labels.to)] = value;
      expect(exported).toEqual(audited);
      expect(exported.rolled_back).toBe(1);
    });

    it("rolls back a candidate whose p99 latency is above stable's, counting every minute of the stage", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      // Each minute: stable's 1,000 responses at ~20 ms (bucket 18: p99 22.6 ms, so the candidate
      // is held to 22.6 × 1.25 + 5 = 33.2 ms, the bucket bound 2^(20/4) = 32 ms); 2.5 % of the
      // candidate's at ~128 ms (bucket 28). One minute of that is not yet conclusive; two are.
      const slow = responsesIn(28, 25);
      slow[18] = 975;
      await feed(id, { latencyCounts: slow });
      clock += 5_000;
      await c.tick();
      let detail = await service.detail(id);
      expect(detail.status).toBe("progressing");
      expect(detail.evaluations.at(-1)!.gates.find((g) => g.gate === "latency_p99")).toMatchObject({
        verdict: "inconclusive",
        samples: { candidate: 1_000, stable: 1_000 },
      });
      clock += 60_000;
      await feed(id, { latencyCounts: slow });
      await c.tick();
      detail = await service.detail(id);
      expect(detail).toMatchObject({ status: "rolled_back", step: 0 });
      const last = detail.events.at(-1)!;
      expect(last.reason).toMatch(/latency_p99/);
      expect(last.details).toMatchObject({
        gates: {
          latency_p99: {
            verdict: "fail",
            samples: { candidate: 2_000, stable: 2_000 },
            threshold: 32,
          },
        },
      });
    });

    it("rolls back a candidate with clearly lower click-through", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      await feed(id, { clicksPerUser: (user) => user % 2 });
      clock += 5_000;
      await c.tick();
      const detail = await service.detail(id);
      expect(detail.status).toBe("rolled_back");
      expect(detail.events.at(-1)!.reason).toMatch(/click_through/);
    });

    it("pauses when traffic is too thin to decide, and does not promote", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      const thin = { ...healthy, users: 3, impressionsPerMinute: 3 };
      for (let i = 0; i < 8 && (await service.get(id)).status === "progressing"; i++) {
        await feed(id, thin, thin);
        clock += 61_000;
        await c.tick();
      }
      const detail = await service.detail(id);
      expect(detail.status).toBe("paused");
      expect(detail.step).toBe(0);
      expect(detail.events.at(-1)!.reason).toMatch(/inconclusive 4 times/);
    });

    it("a manual promote racing an automatic rollback: exactly one wins, the other gets 409", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      await feed(id, { failuresPerMinute: 300 });
      clock += 5_000;
      const before = await service.get(id);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const racing = controller({ beforeWrite: () => gate });
      // both decide on the same version; the controller is held just before its write
      await c.stop();
      const auto = racing.tick();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const manual = service.act({
        id,
        action: "promote",
        expectedVersion: before.version,
        actor: "key:eng",
      });
      const manualResult = await manual.then(
        () => "won",
        (e: { code?: string }) => e.code,
      );
      release();
      const autoReport = await auto;
      expect(autoReport.conflicts).toBe(1);
      const after = await service.detail(id);
      expect(manualResult).toBe("won");
      // the controller's rollback was decided on the old version: refused, nothing written
      expect(after.status).toBe("progressing");
      expect(after.step).toBe(1);
      expect(after.events.filter((e) => e.action === "rollback")).toHaveLength(0);
      // the other way round: a stale manual action gets 409
      await expect(
        service.act({ id, action: "pause", expectedVersion: before.version, actor: "key:eng" }),
      ).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("sends every transition, signed, to the rollout's webhook", async () => {
      const bodies: { body: string; signature: string }[] = [];
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
          bodies.push({ body, signature: String(req.headers["x-reco-signature-256"]) });
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const sender = new WebhookSender();
      const unsubscribe = service.onTransition((notice) => sender.send(notice));
      try {
        const v = await versions();
        const { port } = server.address() as AddressInfo;
        const { rollout, webhookSecret } = await service.start(
          {
            candidate: v.candidate,
            stages: STAGES,
            webhookUrl: `http://127.0.0.1:${port}/hooks/reco`,
          },
          "key:eng",
        );
        expect(webhookSecret).toMatch(/^[\w-]{32}$/);
        await controller().tick();
        await service.act({
          id: rollout.id,
          action: "pause",
          expectedVersion: (await service.get(rollout.id)).version,
          actor: "key:eng",
          reason: "investigating a dashboard",
        });
        await waitFor(() => bodies.length >= 3, { description: "three webhook deliveries" });
        const events = bodies.map((b) => JSON.parse(b.body) as { action: string; to: string });
        expect(events.map((e) => `${e.action}:${e.to}`)).toEqual([
          "start:pending",
          "start_stage:progressing",
          "pause:paused",
        ]);
        for (const { body, signature } of bodies)
          expect(signature).toBe(
            `sha256=${createHmac("sha256", webhookSecret!).update(body).digest("hex")}`,
          );
      } finally {
        unsubscribe();
        await sender.close();
        server.close();
      }
    });

    it("an evaluation that changes nothing keeps the version an engineer acts on", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      const seen = await service.get(id);
      await feed(id);
      clock += 5_000;
      await c.tick();
      const after = await service.detail(id);
      expect(after.evaluations.length).toBeGreaterThan(0);
      expect(after.version).toBe(seen.version);
      await expect(
        service.act({ id, action: "pause", expectedVersion: seen.version, actor: "key:eng" }),
      ).resolves.toMatchObject({ status: "paused" });
    });

    it("routes no user to a candidate until it is loaded; a route opens once its load settles", async () => {
      const { id } = await startRollout();
      await controller().tick();
      let loaded!: () => void;
      const loads: string[] = [];
      const routing = new RolloutRouting(t.db.prisma, {
        warm: (candidate) => {
          loads.push(`${candidate.name}@${candidate.version}`);
          return new Promise<void>((resolve) => (loaded = resolve));
        },
      });
      await routing.refresh();
      expect(routing.active.map((r) => r.id)).not.toContain(id);
      await routing.refresh();
      expect(loads).toHaveLength(1); // loaded once, not at every refresh
      loaded();
      await waitFor(() => routing.active.some((r) => r.id === id), {
        description: "route open after the load",
      });
      expect(routing.active.find((r) => r.id === id)).toMatchObject({ trafficPct: 5 });
    });

    it("pause stops the stage clock and resume keeps the time already run", async () => {
      const { id } = await startRollout();
      const c = controller();
      await c.tick();
      clock += 30_000;
      const paused = await service.act({
        id,
        action: "pause",
        expectedVersion: (await service.get(id)).version,
        actor: "key:eng",
      });
      expect(paused.status).toBe("paused");
      const ranMs = paused.stageElapsedMs;
      expect(ranMs).toBeGreaterThanOrEqual(29_000);
      // while paused the controller leaves it alone and the clock does not run
      clock += 600_000;
      await c.tick();
      expect((await service.get(id)).stageElapsedMs).toBe(ranMs);
      // resume is not allowed twice, and refused actions name the state
      const resumed = await service.act({
        id,
        action: "resume",
        expectedVersion: paused.version,
        actor: "key:eng",
      });
      expect(resumed).toMatchObject({ status: "progressing", step: 0 });
      await expect(
        service.act({ id, action: "resume", expectedVersion: resumed.version, actor: "key:eng" }),
      ).rejects.toThrow(/cannot resume a rollout that is progressing/);
      await expect(
        service.act({ id, action: "undo", expectedVersion: resumed.version, actor: "key:eng" }),
      ).rejects.toThrow(/cannot undo a rollout that is progressing/);
    });

    it("two controllers: one leader writes; a leader past its lease is fenced mid-write", async () => {
      const { id } = await startRollout();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let armed = false;
      const a = controller({
        leaseTtlMs: 1_000,
        holder: "a",
        beforeWrite: () => (armed ? held : undefined),
      });
      const b = controller({ leaseTtlMs: 1_000, holder: "b" });
      const first = await a.tick();
      const second = await b.tick();
      expect(first.leader).toBe(true);
      expect(second.leader).toBe(false);
      await feed(id);
      clock += 5_000;
      // a decides, then stalls before writing until its lease has run out and b took over
      armed = true;
      const stalled = a.tick();
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      const takeover = await b.tick();
      expect(takeover.leader).toBe(true);
      expect(takeover.token).toBeGreaterThan(first.token!);
      release();
      const late = await stalled;
      expect(late.fenced).toBe(true);
      const tokens = await t.db.prisma.rolloutEvaluation.findMany({
        where: { rolloutId: id },
        select: { token: true },
      });
      expect(tokens.every((row) => row.token === takeover.token)).toBe(true);
      await expect(
        t.db.prisma.$transaction((tx) => a.lease.fenced(tx, first.token!)),
      ).rejects.toBeInstanceOf(LeaseLost);
    });
  });
}
