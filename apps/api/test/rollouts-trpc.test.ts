/** The rollouts router (list, get, start, act) and session.whoami over HTTP, on embedded PGlite. */
import path from "node:path";
import { ApiKeyStore, createCatalogStats } from "@reco/serving";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { AppRouter } from "@reco/api-router";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server.ts";
import { startRolloutsApi, type RolloutTestApi } from "./rollouts-fixture.ts";

/** The tRPC error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const SHORT_STAGES = [
  { trafficPct: 5, minDurationS: 600, minUsersPerArm: 10 },
  { trafficPct: 50, minDurationS: 600, minUsersPerArm: 10 },
  { trafficPct: 100, minDurationS: 600, minUsersPerArm: 10 },
];

describe("rollouts router (pglite)", () => {
  let api: RolloutTestApi;
  let counter = 0;

  beforeAll(async () => {
    api = await startRolloutsApi();
    await api.registerVersion("base", "v1", "stable");
  }, 60_000);
  afterAll(async () => api?.close());

  /** A candidate model of its own (one active rollout per model). */
  async function candidate() {
    const name = `cand${++counter}`;
    await api.registerVersion(name, "v1");
    return { name, version: "v1" };
  }

  async function started() {
    const { rollout } = await api.client("engineer").rollouts.start.mutate({
      candidate: await candidate(),
      stages: SHORT_STAGES,
      evaluationIntervalS: 1,
    });
    return rollout;
  }

  it("an engineer starts a rollout against the serving version, as its key, and the audit says so", async () => {
    const cand = await candidate();
    const answer = await api.client("engineer").rollouts.start.mutate({
      candidate: cand,
      stages: SHORT_STAGES,
      reason: "faster neighbours",
    });
    expect(answer.webhookSecret).toBeNull();
    expect(answer.rollout).toMatchObject({
      modelName: cand.name,
      status: "pending",
      step: -1,
      trafficPct: 0,
      version: 0,
      candidate: { name: cand.name, version: "v1" },
      baseline: { name: "base", version: "v1" },
      createdBy: `key:${api.prefixes.engineer}`,
    });
    expect(answer.rollout.stages.map((s) => s.trafficPct)).toEqual([5, 50, 100]);
    const detail = await api.client("viewer").rollouts.get.query({ id: answer.rollout.id });
    expect(detail.events).toHaveLength(1);
    expect(detail.events[0]).toMatchObject({
      action: "start",
      actor: `key:${api.prefixes.engineer}`,
      fromStatus: "",
      toStatus: "pending",
      reason: "faster neighbours",
    });
    expect(detail.actions).toEqual(["promote_full", "pause", "abort", "rollback"]);
  });

  it("returns the webhook secret once, on start, and never in reads", async () => {
    const { rollout, webhookSecret } = await api.client("admin").rollouts.start.mutate({
      candidate: await candidate(),
      webhookUrl: "https://hooks.example.com/reco",
    });
    expect(webhookSecret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(rollout.createdBy).toBe(`key:${api.prefixes.admin}`);
    const detail = await api.client("viewer").rollouts.get.query({ id: rollout.id });
    expect(detail.webhookUrl).toBe("https://hooks.example.com/reco");
    expect(JSON.stringify(detail)).not.toContain(webhookSecret!);
    const listed = await api.client("viewer").rollouts.list.query({});
    expect(JSON.stringify(listed)).not.toContain(webhookSecret!);
  });

  it("a viewer lists and reads rollouts, filtered by status and model", async () => {
    const rollout = await started();
    const viewer = api.client("viewer");
    const all = await viewer.rollouts.list.query();
    expect(all.map((r) => r.id)).toContain(rollout.id);
    expect(all[0]!.id).toBeGreaterThanOrEqual(rollout.id); // newest first
    const byModel = await viewer.rollouts.list.query({ modelName: rollout.modelName });
    expect(byModel.map((r) => r.id)).toEqual([rollout.id]);
    expect(await viewer.rollouts.list.query({ status: "promoted" })).toEqual([]);
    const detail = await viewer.rollouts.get.query({ id: rollout.id });
    expect(detail).toMatchObject({ id: rollout.id, status: "pending", evaluations: [] });
    expect(typeof detail.createdAt).toBe("string"); // dates travel as ISO strings
  });

  it("a viewer's start and act are refused with 403 and change nothing; pm is not enough either", async () => {
    const rollout = await started();
    const before = await api.db.prisma.rollout.count();
    const cand = await candidate();
    for (const role of ["viewer", "pm"] as const) {
      const start = await failure(api.client(role).rollouts.start.mutate({ candidate: cand }));
      expect(start.data?.code).toBe("FORBIDDEN");
      expect(start.data?.httpStatus).toBe(403);
      expect(start.message).toBe(`needs role engineer, key has ${role}`);
      const act = await failure(
        api.client(role).rollouts.act.mutate({ id: rollout.id, action: "abort", version: 1 }),
      );
      expect(act.data?.code).toBe("FORBIDDEN");
      expect(act.data?.httpStatus).toBe(403);
    }
    expect(await api.db.prisma.rollout.count()).toBe(before);
    expect((await api.rollouts.get(rollout.id)).status).toBe("pending");
    const anonymous = await failure(api.client().rollouts.list.query());
    expect(anonymous.data?.code).toBe("UNAUTHORIZED");
  });

  it("bad input is a 400 naming each field, and nothing is stored", async () => {
    const before = await api.db.prisma.rollout.count();
    const error = await failure(
      api.client("engineer").rollouts.start.mutate({
        candidate: await candidate(),
        stages: [{ trafficPct: 50 }, { trafficPct: 20 }, { trafficPct: 100 }],
      }),
    );
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.data?.httpStatus).toBe(400);
    expect(error.message).toContain("stages[1].trafficPct: must be above the previous stage's 50");
    expect(error.data?.details).toEqual({
      issues: [{ field: "stages[1].trafficPct", message: "must be above the previous stage's 50" }],
    });

    const several = await failure(
      api.client("engineer").rollouts.start.mutate({
        candidate: { name: "", version: "v1" },
        stages: [{ trafficPct: 0 }],
        evaluationIntervalS: 0.5,
        webhookUrl: "ftp://x",
      }),
    );
    expect(several.data?.code).toBe("BAD_REQUEST");
    const fields = (several.data?.details as { issues: { field: string }[] }).issues.map(
      (i) => i.field,
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        "candidate.name",
        "stages[0].trafficPct",
        "evaluationIntervalS",
        "webhookUrl",
      ]),
    );

    const unknownModel = await failure(
      api.client("engineer").rollouts.start.mutate({ candidate: { name: "nope", version: "v9" } }),
    );
    expect(unknownModel.data?.code).toBe("BAD_REQUEST");
    expect(unknownModel.message).toBe("candidate: model nope version v9 is not registered");

    const notAnObject = await failure(
      api.client("engineer").rollouts.start.mutate("knn@v1" as never),
    );
    expect(notAnObject.data?.code).toBe("BAD_REQUEST");

    const badAction = await failure(
      api.client("engineer").rollouts.act.mutate({ id: 1, action: "explode" as never, version: 1 }),
    );
    expect(badAction.data?.code).toBe("BAD_REQUEST");
    expect(badAction.message).toContain("action must be one of promote, promote_full");
    expect(await api.db.prisma.rollout.count()).toBe(before);
  });

  it("acts with the version it read; a stale version is a 409 naming the current one", async () => {
    const rollout = await started();
    const engineer = api.client("engineer");
    const paused = await engineer.rollouts.act.mutate({
      id: rollout.id,
      action: "pause",
      version: rollout.version,
      reason: "hold for the release",
    });
    expect(paused).toMatchObject({ status: "paused", version: rollout.version + 1 });

    const stale = await failure(
      engineer.rollouts.act.mutate({ id: rollout.id, action: "resume", version: rollout.version }),
    );
    expect(stale.data?.code).toBe("CONFLICT");
    expect(stale.data?.httpStatus).toBe(409);
    expect(stale.message).toContain(
      `rollout ${rollout.id} changed since version ${rollout.version}`,
    );
    expect(stale.data?.details).toMatchObject({ currentVersion: paused.version, status: "paused" });
    expect((await api.rollouts.get(rollout.id)).status).toBe("paused");

    const detail = await api.client("viewer").rollouts.get.query({ id: rollout.id });
    expect(detail.actions).toEqual(["promote", "promote_full", "resume", "abort", "rollback"]);
    expect(detail.events.at(-1)).toMatchObject({
      action: "pause",
      actor: `key:${api.prefixes.engineer}`,
      fromStatus: "pending",
      toStatus: "paused",
      reason: "hold for the release",
    });

    // admin acts too (role order); an action the status does not allow is a 409 as well
    const resumed = await api.client("admin").rollouts.act.mutate({
      id: rollout.id,
      action: "resume",
      version: paused.version,
    });
    expect(resumed).toMatchObject({ status: "progressing", step: 0, trafficPct: 5 });
    const undo = await failure(
      engineer.rollouts.act.mutate({ id: rollout.id, action: "undo", version: resumed.version }),
    );
    expect(undo.data?.code).toBe("CONFLICT");
    expect(undo.message).toBe("cannot undo a rollout that is progressing");
    const aborted = await engineer.rollouts.act.mutate({
      id: rollout.id,
      action: "abort",
      version: resumed.version,
    });
    expect(aborted.status).toBe("aborted");
    expect((await api.client("viewer").rollouts.get.query({ id: rollout.id })).actions).toEqual([]);
  });

  it("an unknown rollout is a 404 for get and act", async () => {
    const get = await failure(api.client("viewer").rollouts.get.query({ id: 999_999 }));
    expect(get.data?.code).toBe("NOT_FOUND");
    expect(get.data?.httpStatus).toBe(404);
    expect(get.message).toBe('rollout "999999" not found');
    const act = await failure(
      api.client("engineer").rollouts.act.mutate({ id: 999_999, action: "abort", version: 1 }),
    );
    expect(act.data?.code).toBe("NOT_FOUND");
    const badId = await failure(api.client("viewer").rollouts.get.query({ id: -3 }));
    expect(badId.data?.code).toBe("BAD_REQUEST");
  });

  it("a viewer reads the plan defaults a start form begins with", async () => {
    const defaults = await api.client("viewer").rollouts.defaults.query();
    expect(defaults.stages.map((s) => s.trafficPct)).toEqual([5, 50, 100]);
    expect(defaults.stages[0]).toEqual({ trafficPct: 5, minDurationS: 600, minUsersPerArm: 1_000 });
    expect(defaults.gates).toMatchObject({ ctrMarginPct: 5, errorRateMargin: 0.01 });
    expect(defaults.evaluationIntervalS).toBe(60);
  });

  it("session.whoami tells the dashboard the key's role and what it may operate", async () => {
    const viewer = await api.client("viewer").session.whoami.query();
    expect(viewer).toMatchObject({
      role: "viewer",
      prefix: api.prefixes.viewer,
      may: { operateRollouts: false, changeModels: false, runExperiments: false },
    });
    const engineer = await api.client("engineer").session.whoami.query();
    expect(engineer).toMatchObject({ role: "engineer", may: { operateRollouts: true } });
    const admin = await api.client("admin").session.whoami.query();
    expect(admin.may).toEqual({
      runExperiments: true,
      changeModels: true,
      operateRollouts: true,
      manageKeys: true,
    });
  });

  it("answers 503 on a server built without the rollout service", async () => {
    const store = new ApiKeyStore(api.db.prisma);
    const app = await buildServer({
      logger: pino({ level: "silent" }),
      authenticator: store,
      services: {
        stats: createCatalogStats({ prisma: api.db.prisma, snapshotsRoot: path.join("/tmp", "x") }),
        apiKeys: store,
      },
      readiness: {},
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const client = createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: `${url}/trpc`,
            headers: { authorization: `Bearer ${api.keys.viewer}` },
          }),
        ],
      });
      const error = await failure(client.rollouts.list.query());
      expect(error.data?.code).toBe("SERVICE_UNAVAILABLE");
      expect(error.message).toBe("rollouts are not configured on this server");
    } finally {
      await app.close();
    }
  });
});
