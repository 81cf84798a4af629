import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AppRouter } from "@reco/api-router";
import { openDatabase, type Database } from "@reco/db";
import { assignVariant, parseExperimentDefinition } from "@reco/experiments";
import {
  ExperimentAssigner,
  ExperimentModelResolver,
  ExperimentService,
  variantStats,
} from "@reco/experiments/store";
import { ApiKeyStore, createCatalogStats, FixedModelResolver } from "@reco/serving";
import { replaceUserHourStats } from "@reco/stream";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server.ts";

let dataDir: string;
let db: Database;
let app: FastifyInstance;
let baseUrl: string;
let assigner: ExperimentAssigner;
const keys: Record<"pm" | "viewer" | "client", string> = { pm: "", viewer: "", client: "" };
let modelVersionId: number;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "api-experiments-"));
  db = await openDatabase({ dataDir });
  const store = new ApiKeyStore(db.prisma);
  for (const role of ["pm", "viewer", "client"] as const)
    keys[role] = (await store.create({ name: role, role })).key;
  modelVersionId = (
    await db.prisma.modelVersion.create({
      data: {
        name: "ials",
        version: "v2",
        kind: "ials",
        artifactPath: "/models/ials-v2.onnx",
        checksum: "0",
      },
    })
  ).id;
  const experiments = new ExperimentService(db.prisma);
  // refreshes only when told to: the on-demand path must answer for experiments it has not loaded
  assigner = new ExperimentAssigner(db.prisma, { refreshMs: 3_600_000 });
  app = await buildServer({
    logger: pino({ level: "silent" }),
    authenticator: store,
    services: {
      stats: createCatalogStats({ prisma: db.prisma, snapshotsRoot: path.join(dataDir, "s") }),
      apiKeys: store,
      experiments,
    },
    readiness: {},
    experiments: { authenticator: store, assigner, experiments },
  });
  baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  assigner?.close();
  await app?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function trpc(key?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/trpc`,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      }),
    ],
  });
}

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

async function rest(method: "GET" | "POST", url: string, body?: unknown, key = keys.client) {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const twoVariants = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  hypothesis: "the new model lifts clicks",
  owner: "pm@example.com",
  primaryMetric: "click_through" as const,
  variants: [
    { name: "control", weight: 50, strategy: "default" },
    { name: "treatment", weight: 50, strategy: "popularity" },
  ],
  ...extra,
});

describe("experiments API: roles", () => {
  it("answers 401 without a key and 403 to a viewer that tries to create", async () => {
    const none = await failure(trpc().experiments.list.query());
    expect(none.data?.httpStatus).toBe(401);
    const viewer = await failure(
      trpc(keys.viewer).experiments.create.mutate(twoVariants("roles-a")),
    );
    expect(viewer.data?.httpStatus).toBe(403);
    expect(viewer.message).toContain("needs role pm");
    const client = await failure(trpc(keys.client).experiments.list.query());
    expect(client.data?.httpStatus).toBe(403);
    expect(await trpc(keys.viewer).experiments.list.query()).toEqual([]);
  });
});

describe("experiments API: bad input names the field", () => {
  const pm = () => trpc(keys.pm).experiments;

  it.each([
    [
      "weights not summing to 100 %",
      {
        variants: [
          { name: "a", weight: 60, strategy: "default" },
          { name: "b", weight: 30, strategy: "popularity" },
        ],
      },
      /variants: weights must sum to 100 % but sum to 90 %/,
    ],
    [
      "duplicate variant names",
      {
        variants: [
          { name: "a", weight: 50, strategy: "default" },
          { name: "a", weight: 50, strategy: "popularity" },
        ],
      },
      /variants\[1\]\.name: duplicate variant name "a"/,
    ],
    [
      "an unknown model version",
      {
        variants: [
          { name: "a", weight: 50, strategy: "default" },
          { name: "b", weight: 50, modelVersionId: 987654 },
        ],
      },
      /variants\[1\]\.modelVersionId: unknown model version 987654/,
    ],
    [
      "an unknown strategy",
      {
        variants: [
          { name: "a", weight: 50, strategy: "default" },
          { name: "b", weight: 50, strategy: "random-walk" },
        ],
      },
      /variants\[1\]\.strategy: unknown strategy "random-walk"/,
    ],
    [
      "a negative weight",
      { variants: [{ name: "a", weight: -5, strategy: "default" }] },
      /variants\[0\]\.weight/,
    ],
    ["a non-object", "not an experiment", /an experiment definition object/],
  ])("%s → BAD_REQUEST", async (_what, patch, message) => {
    const input = typeof patch === "string" ? patch : twoVariants("bad-input", patch);
    const error = await failure(pm().create.mutate(input as never));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(message);
    await expect(trpc(keys.viewer).experiments.get.query({ key: "bad-input" })).rejects.toThrow(
      /not found/,
    );
  });

  it("refuses overlapping ranges in one namespace, starting without variants or metric, and weight changes while running", async () => {
    await pm().create.mutate(
      twoVariants("ns-first", { namespace: "homepage", rangeStart: 0, rangeEnd: 0.6 }),
    );
    const overlap = await failure(
      pm().create.mutate(
        twoVariants("ns-second", { namespace: "homepage", rangeStart: 0.5, rangeEnd: 1 }),
      ),
    );
    expect(overlap.data?.code).toBe("BAD_REQUEST");
    expect(overlap.message).toMatch(
      /rangeStart: range \[0\.5, 1\) of namespace "homepage" overlaps experiment "ns-first"/,
    );
    await pm().create.mutate(
      twoVariants("ns-second", { namespace: "homepage", rangeStart: 0.6, rangeEnd: 1 }),
    );

    await pm().create.mutate({ key: "empty-draft" });
    const noVariants = await failure(pm().start.mutate({ key: "empty-draft" }));
    expect(noVariants.data?.code).toBe("BAD_REQUEST");
    expect(noVariants.message).toMatch(/variants: needs at least 2 variants to run \(has 0\)/);
    await pm().edit.mutate({ key: "empty-draft", patch: { variants: twoVariants("x").variants } });
    const noMetric = await failure(pm().start.mutate({ key: "empty-draft" }));
    expect(noMetric.message).toMatch(/primaryMetric: a primary metric is required to run/);

    await pm().start.mutate({ key: "ns-first" });
    const weights = await failure(
      pm().edit.mutate({
        key: "ns-first",
        patch: {
          variants: [
            { name: "control", weight: 70, strategy: "default" },
            { name: "treatment", weight: 30, strategy: "popularity" },
          ],
        },
      }),
    );
    expect(weights.data?.code).toBe("BAD_REQUEST");
    expect(weights.message).toMatch(
      /variants\[0\]\.weight: cannot change while the experiment is running/,
    );
    expect(weights.message).toMatch(/variants\[1\]\.weight/);
    // the stored definition is untouched
    const stored = await trpc(keys.viewer).experiments.get.query({ key: "ns-first" });
    expect(stored.variants.map((v) => v.weight)).toEqual([50, 50]);
    // fields that move no user may change while running
    const edited = await pm().edit.mutate({ key: "ns-first", patch: { hypothesis: "sharper" } });
    expect(edited.hypothesis).toBe("sharper");
  });

  it("walks the lifecycle and refuses steps out of order (409) and decisions that are not variants (400)", async () => {
    const modelVariants = [
      { name: "stable", weight: 50, strategy: "default" },
      { name: "ials-v2", weight: 50, modelVersionId },
    ];
    const created = await pm().create.mutate(twoVariants("life", { variants: modelVariants }));
    expect(created.status).toBe("draft");
    expect(created.variants[1]!.modelVersionId).toBe(modelVersionId);
    const early = await failure(pm().conclude.mutate({ key: "life", decision: "stable" }));
    expect(early.data?.code).toBe("CONFLICT");
    const duplicate = await failure(pm().create.mutate(twoVariants("life")));
    expect(duplicate.data?.code).toBe("CONFLICT");
    expect(duplicate.message).toMatch(/key: an experiment "life" already exists/);

    const started = await pm().start.mutate({ key: "life" });
    expect(started.status).toBe("running");
    expect(started.startedAt).not.toBeNull();
    await pm().stop.mutate({ key: "life" });
    const badDecision = await failure(pm().conclude.mutate({ key: "life", decision: "nope" }));
    expect(badDecision.message).toMatch(/decision: "nope" is not a variant/);
    const concluded = await pm().conclude.mutate({
      key: "life",
      decision: "ials-v2",
      decisionReason: "won on click-through",
    });
    expect(concluded).toMatchObject({ status: "concluded", decision: "ials-v2" });
    const final = await failure(pm().edit.mutate({ key: "life", patch: { owner: "someone" } }));
    expect(final.message).toMatch(/owner: cannot change while the experiment is concluded/);
    const listed = await trpc(keys.viewer).experiments.list.query({ status: "concluded" });
    expect(listed.map((e) => e.key)).toEqual(["life"]);
  });
});

describe("experiments API: assignment, exposures, outcomes and results", () => {
  it("assigns like the pure function, logs exposures once per user, attributes outcomes and reports them", async () => {
    const pm = trpc(keys.pm).experiments;
    const created = await pm.create.mutate(twoVariants("flow"));
    const draft = await rest("GET", "/experiments/flow/assignment/u1");
    expect(draft.body).toMatchObject({
      inExperiment: false,
      reason: "not_running",
      variant: "control",
    });
    expect((await rest("GET", "/experiments/missing/assignment/u1")).status).toBe(404);
    // before the start every user gets the control experience and nothing is logged
    const early = await rest("POST", "/experiments/flow/exposures", { userId: "u1" });
    expect(early.body).toMatchObject({ inExperiment: false, reason: "not_running", exposures: 0 });
    const earlyClick = await rest("POST", "/experiments/flow/outcomes", {
      userId: "u1",
      kind: "click",
    });
    expect(earlyClick.status).toBe(409);

    await pm.start.mutate({ key: "flow" });
    const def = parseExperimentDefinition({ ...created, status: "running" });
    const counts = { control: { users: 0, clicks: 0 }, treatment: { users: 0, clicks: 0 } };
    for (let u = 0; u < 40; u += 1) {
      const userId = `user-${u}`;
      const expected = assignVariant(def, userId).variant as "control" | "treatment";
      const got = await rest("GET", `/experiments/flow/assignment/${userId}`);
      expect(got.body).toMatchObject({ variant: expected, inExperiment: true });
      // two exposures of one user count once
      await rest("POST", "/experiments/flow/exposures", { userId });
      const again = await rest("POST", "/experiments/flow/exposures", { userId });
      expect(again.body).toMatchObject({ variant: expected, exposures: 2 });
      counts[expected].users += 1;
      if (u % 3 === 0) {
        const click = await rest("POST", "/experiments/flow/outcomes", { userId, kind: "click" });
        expect(click.body).toMatchObject({ recorded: true, variant: expected });
        counts[expected].clicks += 1;
      }
    }
    const stranger = await rest("POST", "/experiments/flow/outcomes", {
      userId: "never-seen",
      kind: "click",
    });
    expect(stranger.body).toMatchObject({ recorded: false, reason: "user was never exposed" });
    const badRating = await rest("POST", "/experiments/flow/outcomes", {
      userId: "user-0",
      kind: "rating",
      rating: 9,
    });
    expect(badRating.status).toBe(400);
    expect(JSON.stringify(badRating.body)).toContain("rating");

    const results = await trpc(keys.viewer).experiments.results.query({ key: "flow" });
    expect(results.variants.map((v) => v.users)).toEqual([
      counts.control.users,
      counts.treatment.users,
    ]);
    const ctr = results.metrics[0]!;
    expect(ctr.metric).toBe("click_through");
    expect(ctr.variants.map((v) => v.mean)).toEqual([
      counts.control.clicks / counts.control.users,
      counts.treatment.clicks / counts.treatment.users,
    ]);
    expect(results.mode).toBe("sequential");

    // stopping freezes the numbers, also in a process that cached the running definition
    await pm.stop.mutate({ key: "flow" });
    const late = await rest("POST", "/experiments/flow/exposures", { userId: "user-1" });
    expect(late.body).toMatchObject({ inExperiment: false, reason: "not_running", exposures: 0 });
    const lateClick = await rest("POST", "/experiments/flow/outcomes", {
      userId: "user-1",
      kind: "click",
    });
    expect(lateClick.status).toBe(409);
    expect(JSON.stringify(lateClick.body)).toMatch(/is stopped/);
    const frozen = await trpc(keys.viewer).experiments.results.query({ key: "flow" });
    expect(frozen.metrics).toEqual(results.metrics);
  });

  it("keeps what the API recorded when the stream worker sets a user's totals to the sum of their hours", async () => {
    const pm = trpc(keys.pm).experiments;
    await pm.create.mutate(twoVariants("mixed", { namespace: "mixed" }));
    await pm.start.mutate({ key: "mixed" });
    const userId = "mixed-user";
    const exposed = await rest("POST", "/experiments/mixed/exposures", { userId });
    expect(exposed.body).toMatchObject({ inExperiment: true, exposures: 1 });
    const variant = (exposed.body as { variant: string }).variant;
    const click = await rest("POST", "/experiments/mixed/outcomes", { userId, kind: "click" });
    expect(click.body).toMatchObject({ recorded: true });
    // The stream worker's run for the same user over the previous and the current hour (the
    // API's rows are in the current one): 3 exposures and a watch served through /recommend in
    // the previous hour, written as the worker writes them (absolute, then summed).
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const streamRun = () =>
      replaceUserHourStats(db.prisma, [userId], { from: hour, to: hour + 7_200_000 }, [
        {
          experimentKey: "mixed",
          variant,
          userId,
          hour: new Date(hour),
          exposures: 3,
          clicks: 0,
          watches: 1,
          ratingSum: 0,
          ratingCount: 0,
          responses: 3,
          failures: 1,
          latencySumMs: 90,
          firstExposure: new Date(hour + 60_000),
        },
      ]);
    const totals = () =>
      db.prisma.experimentUserStat.findUniqueOrThrow({
        where: { experimentKey_variant_userId: { experimentKey: "mixed", variant, userId } },
      });
    await streamRun();
    // 1 + 3 exposures, the API's click and the stream's watch; the stream's earlier first exposure
    expect(await totals()).toMatchObject({
      exposures: 4,
      clicks: 1,
      watches: 1,
      // serving figures come from served responses only: the API's exposure carries none
      responses: 3,
      failures: 1,
      latencySumMs: 90,
      firstExposure: new Date(hour + 60_000),
    });
    await streamRun(); // a rerun of the same hour replaces its own rows only
    expect(await totals()).toMatchObject({ exposures: 4, clicks: 1, watches: 1 });
    const later = await rest("POST", "/experiments/mixed/exposures", { userId });
    expect(later.body).toMatchObject({ exposures: 5 });
    await streamRun();
    expect(await totals()).toMatchObject({ exposures: 5, clicks: 1, watches: 1 });
    await pm.stop.mutate({ key: "mixed" });
  });

  it("hands the recommend path the variant's model version, popularity, or the stable default", async () => {
    const pm = trpc(keys.pm).experiments;
    // one experiment decides a user's model: the earliest started they are in, so clear the field
    for (const running of await pm.list.query({ status: "running" }))
      await pm.stop.mutate({ key: running.key });
    await pm.create.mutate(
      twoVariants("serving", {
        variants: [
          { name: "stable", weight: 40, strategy: "default" },
          { name: "ials", weight: 30, modelVersionId },
          { name: "popular", weight: 30, strategy: "popularity" },
        ],
      }),
    );
    await pm.start.mutate({ key: "serving" });
    const fresh = new ExperimentAssigner(db.prisma);
    await fresh.refresh();
    const stableRef = { name: "base", version: "v1", artifactPath: "/models/base.onnx" };
    const resolver = new ExperimentModelResolver(fresh, new FixedModelResolver({ ref: stableRef }));
    const seen = new Map<string, unknown>();
    for (let u = 0; u < 200; u += 1) {
      const assigned = fresh.assign(`r-${u}`);
      const resolution = await resolver.resolve({ userId: `r-${u}`, context: {} });
      if (assigned?.experimentKey !== "serving") continue;
      expect(resolution.variant).toBe(assigned.variant);
      seen.set(assigned.variant, resolution.ref);
    }
    expect(seen.get("ials")).toEqual({
      name: "ials",
      version: "v2",
      artifactPath: "/models/ials-v2.onnx",
    });
    expect(seen.get("popular")).toBeNull();
    expect(seen.get("stable")).toEqual(stableRef);
  });
});

describe("per-user statistics from experiment_user_stats", () => {
  it("aggregates 0/1 metrics over exposed users, ratings over raters, and CUPED sums when every user has a pre-period value", async () => {
    const service = new ExperimentService(db.prisma);
    await service.create(
      twoVariants("sums", {
        primaryMetric: "mean_rating",
        guardrailMetrics: ["click_through", "error_rate", "latency_ms"],
      }),
    );
    await service.start("sums");
    const users = Array.from({ length: 30 }, (_, i) => ({
      experimentKey: "sums",
      variant: i % 2 ? "treatment" : "control",
      userId: `s-${i}`,
      exposures: 1 + (i % 3),
      clicks: i % 4 === 0 ? 2 : 0,
      watches: i % 5 === 0 ? 1 : 0,
      ratingSum: i % 3 === 0 ? 0 : 3 + (i % 2) + (i % 7) / 2,
      ratingCount: i % 3 === 0 ? 0 : 1 + (i % 2),
      preMetric: (i % 6) / 2,
      // served through /recommend: every fourth user only through the API (no serving figures)
      responses: i % 4 === 3 ? 0 : 1 + (i % 3),
      failures: i % 4 === 3 ? 0 : i % 7 === 0 ? 1 : 0,
      latencySumMs: i % 4 === 3 ? 0 : (1 + (i % 3)) * (10 + i),
    }));
    // a row without exposures (an outcome logged before any exposure) is not a user of the experiment
    await db.prisma.experimentUserStat.createMany({
      data: [...users, { experimentKey: "sums", variant: "control", userId: "ghost", clicks: 5 }],
    });
    const def = await service.definition("sums");
    const stats = await variantStats(db.prisma, def);
    for (const variant of ["control", "treatment"]) {
      const mine = users.filter((u) => u.variant === variant);
      const raters = mine.filter((u) => u.ratingCount > 0);
      const rating = raters.map((u) => u.ratingSum / u.ratingCount);
      const clicked = mine.map((u): number => (u.clicks > 0 ? 1 : 0));
      const s = stats[variant]!;
      expect(s.users).toBe(mine.length);
      expect(s.metrics.click_through).toMatchObject({
        n: mine.length,
        sum: clicked.reduce((a, b) => a + b, 0),
        sumSquares: clicked.reduce((a, b) => a + b, 0),
        preSum: mine.reduce((a, u) => a + u.preMetric, 0),
        crossSum: mine.reduce((a, u, i) => a + u.preMetric * clicked[i]!, 0),
      });
      // guardrails over the users with served responses: met a failure (0/1), mean latency
      const served = mine.filter((u) => u.responses > 0);
      const failed = served.map((u): number => (u.failures > 0 ? 1 : 0));
      const latency = served.map((u) => u.latencySumMs / u.responses);
      expect(s.metrics.error_rate).toMatchObject({
        n: served.length,
        sum: failed.reduce((a, b) => a + b, 0),
        sumSquares: failed.reduce((a, b) => a + b, 0),
      });
      expect(s.metrics.latency_ms!.n).toBe(served.length);
      expect(s.metrics.latency_ms!.sum).toBeCloseTo(
        latency.reduce((a, b) => a + b, 0),
        9,
      );
      expect(s.metrics.latency_ms!.sumSquares).toBeCloseTo(
        latency.reduce((a, b) => a + b * b, 0),
        6,
      );
      expect(s.metrics.mean_rating!.n).toBe(raters.length);
      expect(s.metrics.mean_rating!.sum).toBeCloseTo(
        rating.reduce((a, b) => a + b, 0),
        12,
      );
      expect(s.metrics.mean_rating!.sumSquares).toBeCloseTo(
        rating.reduce((a, b) => a + b * b, 0),
        12,
      );
    }
    const results = await service.results("sums");
    expect(results.metrics.map((m) => [m.metric, m.cuped.applied])).toEqual([
      ["mean_rating", true],
      ["click_through", true],
      ["error_rate", true],
      ["latency_ms", true],
    ]);
    // the guardrails have figures: the treatment's mean latency, not "no data yet"
    const latency = results.metrics.find((m) => m.metric === "latency_ms")!;
    const servedTreatment = users.filter((u) => u.variant === "treatment" && u.responses > 0);
    expect(latency.variants[1]!.mean).toBeCloseTo(
      servedTreatment.reduce((a, u) => a + u.latencySumMs / u.responses, 0) /
        servedTreatment.length,
      9,
    );
    expect(latency.variants[1]!.verdict).not.toMatch(/no data yet/);
  });

  it("does not attribute outcomes that come after the attribution window", async () => {
    const service = new ExperimentService(db.prisma);
    await service.create(twoVariants("window", { attributionWindowS: 60 }));
    await service.start("window");
    const exposed = await service.expose("window", "w-1");
    await service.expose("window", "w-2");
    await db.prisma.experimentUserStat.updateMany({
      where: { experimentKey: "window", userId: "w-1" },
      data: { firstExposure: new Date(Date.now() - 2 * 3600_000) },
    });
    expect(await service.recordOutcome("window", "w-1", { kind: "watch" })).toEqual({
      recorded: false,
      variant: exposed.variant,
      reason: "outside the 60 s attribution window",
    });
    expect(await service.recordOutcome("window", "w-2", { kind: "watch" })).toMatchObject({
      recorded: true,
    });
    const rows = await db.prisma.experimentUserStat.findMany({
      where: { experimentKey: "window" },
      orderBy: { userId: "asc" },
    });
    expect(rows.map((r) => r.watches)).toEqual([0, 1]);
  });
});
