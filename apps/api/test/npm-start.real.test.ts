/**
 * `npm start` as a new user runs it (`node scripts/start.mjs`), against the real PostgreSQL,
 * Redis and Kafka of scripts/services.sh — with its own data directory, ports, a fresh database on
 * the shared server and its own topic prefix — and, in embedded mode, started again right after a
 * stop. One file, run in order: each start of the product is a few minutes of a 2-core machine.
 */
import { readFile, rm, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  buildInteractions,
  fitModel,
  loadSnapshots,
  randomHoldout,
  type FactorParams,
  type Interactions,
} from "@reco/ml";
import { querySnapshots } from "@reco/snapshots";
import { createScratchDatabase, uniqueName, waitFor, type ScratchDatabase } from "@reco/testkit";
import { openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consecutiveFreePorts, Launcher, repoRoot } from "./npm-start-launcher.ts";

const { DATABASE_URL, REDIS_URL, KAFKA_BROKERS } = process.env;
const DEMO_RATINGS = path.join(repoRoot, "data", "ml-latest-small", "ratings.csv");
/** The worker's micro-batch interval in this test (30 s by default) and its aggregate runs. */
const BATCH_INTERVAL_MS = 3_000;
const AGGREGATE_INTERVAL_MS = 1_000;

describe("npm start on the real services (PostgreSQL, Redis, Kafka)", { timeout: 900_000 }, () => {
  let database: ScratchDatabase;
  let dataDir: string;
  let launcher: Launcher;
  let apiPort: number;
  let webPort: number;
  let key: string;
  const topicPrefix = uniqueName("npmstart");
  const api = (instance = 0) => `http://127.0.0.1:${apiPort + instance}`;
  const web = () => `http://127.0.0.1:${webPort}`;
  const authorized = () => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    if (!DATABASE_URL || !REDIS_URL || !KAFKA_BROKERS)
      throw new Error(
        'DATABASE_URL, REDIS_URL and KAFKA_BROKERS must be set: bash scripts/services.sh up && eval "$(bash scripts/services.sh env)"',
      );
    database = await createScratchDatabase(DATABASE_URL, "npm_start");
    dataDir = path.join(tmpdir(), uniqueName("reco-npm-start"));
    apiPort = await consecutiveFreePorts(2);
    webPort = await consecutiveFreePorts(1);
    const workerPort = await consecutiveFreePorts(1);
    launcher = new Launcher({
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      REDIS_URL,
      KAFKA_BROKERS,
      TOPIC_PREFIX: topicPrefix,
      PORT: String(apiPort),
      WEB_PORT: String(webPort),
      WORKER_PORT: String(workerPort),
      API_INSTANCES: "2",
      STREAM_BATCH_INTERVAL_MS: String(BATCH_INTERVAL_MS),
      AGGREGATE_INTERVAL_MS: String(AGGREGATE_INTERVAL_MS),
      NODE_ENV: "",
      DEMO_FIT_ON: "", // the default: what a new user gets
      SIMULATE: "0", // the simulator's clicks would mix into the click counts checked here
      DEMO_EXPERIMENT: "0", // the checks here expect the stable iALS to serve every user
    });
    await launcher.ready(600_000);
  }, 660_000);

  afterAll(async () => {
    if (launcher?.running()) {
      launcher.interrupt();
      await launcher.exited;
    }
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("the banner names the mode and every service, two apis on consecutive ports, and the worker", () => {
    const banner = launcher.output.slice(launcher.output.lastIndexOf("Reco is running"));
    expect(banner).toMatch(/^Reco is running \(real services: PostgreSQL, Redis, Kafka, ready in/);
    expect(banner).not.toContain("embedded mode");
    expect(launcher.bannerLine("API 1")).toContain(`${api(0)}/`);
    expect(launcher.bannerLine("API 2")).toContain(`${api(1)}/`);
    expect(launcher.bannerLine("Stream worker")).toContain("with the rollout controller");
    expect(launcher.bannerLine("database")).toContain(`/${database.name}`);
    expect(launcher.bannerLine("database")).not.toContain("reco:reco@"); // password hidden
    expect(launcher.bannerLine("cache")).toContain(`Redis (REDIS_URL ${REDIS_URL}`);
    expect(launcher.bannerLine("event bus")).toContain(`topics ${topicPrefix}.*`);
    // one worker process (and its tsx runner) beside two apis and the dashboard
    expect(launcher.descendants("apps/stream-worker/src/main.ts").length).toBeGreaterThan(0);
    expect(launcher.descendants("apps/api/src/main.ts").length).toBeGreaterThanOrEqual(2);
  });

  it("an empty database gets a development admin key, saved in DATA_DIR; it signs the dashboard in", async () => {
    const keyFile = path.join(dataDir, "dev-api-key");
    expect(launcher.bannerLine("API key (admin)")).toContain(`in ${keyFile}`);
    key = (await readFile(keyFile, "utf8")).trim();
    expect(launcher.bannerLine("API key (admin)")).toContain(key.slice(0, 17));
    for (const instance of [0, 1]) {
      const health = await fetch(`${api(instance)}/healthz`);
      expect(health.status).toBe(200);
    }

    // Not signed in: the dashboard's proxy has no key to send on real services.
    const anonymous = await fetch(`${web()}/api/trpc/stats.counts`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${web()}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: `${key.slice(0, -4)}xxxx` }),
    });
    expect(wrong.status).toBe(401);
    const signIn = await fetch(`${web()}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith("reco_key="));
    expect(cookie).toBeDefined();
    const ratingLines = (await readFile(DEMO_RATINGS, "utf8")).trim().split("\n").length - 1;
    // the dashboard's overview call, through the proxy, signed in (twice: the apis take turns)
    for (let i = 0; i < 2; i++) {
      const counts = await fetch(`${web()}/api/trpc/stats.counts`, {
        headers: { cookie: cookie!.split(";")[0]! },
      });
      expect(counts.status).toBe(200);
      const body = (await counts.json()) as { result: { data: { ratings: number } } };
      expect(body.result.data.ratings).toBe(ratingLines);
    }
  });

  it("the demo versions were refit on all 100,004 ratings after the held-out evaluation; /recommend scores come from those factors", async () => {
    const ratingLines = (await readFile(DEMO_RATINGS, "utf8")).trim().split("\n").length - 1;
    for (const name of ["ials-demo", "item-knn-demo"]) {
      const response = await fetch(
        `${api()}/trpc/models.get?input=${encodeURIComponent(JSON.stringify({ name, version: "v1" }))}`,
        { headers: authorized() },
      );
      expect(response.status).toBe(200);
      const { result } = (await response.json()) as {
        result: { data: { registry: { modelCard: string | null } } };
      };
      const card = result.data.registry.modelCard ?? "";
      expect(card).toContain(`Fitted on all ${ratingLines} interactions`);
      // the held-out metrics, and the split they came from (80 % of each user's items, seed 42)
      expect(card).toMatch(/\| ndcg \| 0\.\d{4} \|/);
      expect(card).toMatch(/split=random, testFraction=0\.2, seed=42/);
      expect(card).toMatch(/a copy fitted on 8\d{4} train interactions, scored on 2\d{4} held-out/);
    }

    // The test's own fits, with the training CLI's defaults and seed: on every interaction, and on
    // the split's train side. The served scores must be those of the first, not of the second.
    const { log } = await loadSnapshots(path.join(dataDir, "snapshots"));
    const options = { confidence: "binary" as const };
    const everything = buildInteractions(log, options);
    const trainSide = buildInteractions(
      randomHoldout(log, { testFraction: 0.2, seed: 42 }).train,
      options,
    );
    const fitAll = (await fitModel("ials", everything, { seed: "42" })).model as FactorParams;
    const fitTrain = (await fitModel("ials", trainSide, { seed: "42" })).model as FactorParams;
    expect(everything.userItems.indptr[everything.nUsers]).toBe(ratingLines);

    // the demo user with the most ratings (the most held out by the split)
    let user = 0;
    const rated = (u: number, data: Interactions) =>
      data.userItems.indptr[u + 1]! - data.userItems.indptr[u]!;
    for (let u = 1; u < everything.nUsers; u++)
      if (rated(u, everything) > rated(user, everything)) user = u;
    const userId = everything.ids.users[user]!;
    expect(rated(user, everything) - rated(user, trainSide)).toBeGreaterThan(100);

    const k = 10;
    const answer = await fetch(`${api(1)}/recommend/${userId}?k=${k}`, { headers: authorized() });
    expect(answer.status).toBe(200);
    const served = (await answer.json()) as {
      modelVersion: string;
      items: { itemId: string; score: number; reason: string }[];
    };
    expect(served.modelVersion).toBe("ials-demo@v1");
    expect(served.items.map((i) => i.reason)).toEqual(Array(k).fill("personalized"));
    const score = (model: FactorParams, itemId: string) => {
      const item = everything.ids.items.indexOf(itemId);
      let dot = 0;
      for (let f = 0; f < model.factors; f++)
        dot +=
          model.userFactors[user * model.factors + f]! *
          model.itemFactors[item * model.factors + f]!;
      return dot;
    };
    for (const item of served.items) expect(item.score).toBeCloseTo(score(fitAll, item.itemId), 4);
    // …and the check can tell: the factors of the 80 % side score these items differently
    const gaps = served.items.map((item) => Math.abs(item.score - score(fitTrain, item.itemId)));
    expect(Math.max(...gaps)).toBeGreaterThan(1e-3);

    // the answer is the top k of the all-data factors among the items the user has not rated
    const seen = new Set(
      everything.userItems.indices.subarray(
        everything.userItems.indptr[user]!,
        everything.userItems.indptr[user + 1]!,
      ),
    );
    const ranked = everything.ids.items
      .map((itemId, index) => ({ itemId, index, score: score(fitAll, itemId) }))
      .filter((item) => !seen.has(item.index))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
    expect(served.items.map((i) => i.itemId)).toEqual(ranked.map((i) => i.itemId));
  });

  it("feedback of a new user reaches the snapshots and the per-minute aggregates within two micro-batches", async () => {
    const userId = uniqueName("newcomer");
    const shown = await fetch(`${api(1)}/recommend/${userId}?k=5`, { headers: authorized() });
    expect(shown.status).toBe(200);
    const { recId, items, modelVersion } = (await shown.json()) as {
      recId: string;
      items: { itemId: string }[];
      modelVersion: string;
    };
    const posted = await fetch(`${api(0)}/feedback`, {
      method: "POST",
      headers: { ...authorized(), "content-type": "application/json" },
      body: JSON.stringify({ userId, itemId: items[0]!.itemId, type: "click", recId }),
    });
    expect(posted.status).toBe(202);
    const sent = Date.now();

    const snapshots = path.join(dataDir, "snapshots");
    const inSnapshots = await waitFor(
      async () => {
        const [row] = await querySnapshots<{ n: bigint }>(
          snapshots,
          `SELECT count(*) AS n FROM {source} WHERE user_id = '${userId}' AND type = 'click' AND rec_id = '${recId}'`,
        );
        return Number(row?.n ?? 0) === 1 ? Date.now() - sent : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: "the click in the snapshots" },
    );
    const db = await openDatabase({ databaseUrl: database.url, migrate: false });
    let inAggregates: number;
    try {
      // Only this click carries a recId in this fresh database: it is attributed to the answer
      // that served it (api 2), in that answer's model version, beside its impression.
      inAggregates = await waitFor(
        async () => {
          const { _sum } = await db.prisma.metricAggregate.aggregate({
            where: { versionLabel: modelVersion },
            _sum: { clicks: true, impressions: true },
          });
          return _sum.clicks === 1 && (_sum.impressions ?? 0) >= 1 ? Date.now() - sent : null;
        },
        { timeoutMs: 60_000, intervalMs: 200, description: "the click in metric_aggregates" },
      );
    } finally {
      await db.close();
    }
    // A micro-batch closes at most one interval (+ the flush timer's quarter) after its first
    // record; the aggregates follow at their own interval. Two batches, one aggregate run, and
    // 2 s of scheduling slack on a busy machine:
    const twoBatches = 2 * BATCH_INTERVAL_MS * 1.25 + AGGREGATE_INTERVAL_MS + 2_000;
    process.stdout.write(
      `feedback → snapshots ${inSnapshots} ms, → aggregates ${inAggregates} ms (bound ${twoBatches} ms)\n`,
    );
    expect(inSnapshots).toBeLessThanOrEqual(twoBatches);
    expect(inAggregates).toBeLessThanOrEqual(twoBatches);
  });

  it("a crashed stream worker is reported and the rest are stopped", async () => {
    const [worker] = launcher.descendants("apps/stream-worker/src/main.ts").slice(-1);
    expect(worker).toBeDefined();
    process.kill(worker!, "SIGKILL");
    const { code } = await launcher.exited;
    expect(code).toBe(1);
    expect(launcher.output).toMatch(
      /\[start\] worker exited \((SIGKILL|code \d+)\); stopping the rest/,
    );
    await expect(fetch(`${api(0)}/healthz`)).rejects.toThrow();
    await expect(fetch(`${web()}/`)).rejects.toThrow();
    expect(launcher.descendants("apps/api/src/main.ts")).toEqual([]);
  });
});

describe(
  "npm start in embedded mode, started again right after a stop",
  { timeout: 600_000 },
  () => {
    let dataDir: string;
    const launchers: Launcher[] = [];

    afterAll(async () => {
      for (const launcher of launchers)
        if (launcher.running()) {
          launcher.interrupt();
          await launcher.exited;
        }
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it("a start within one second of Ctrl-C waits for the previous one to release the database, then runs", async () => {
      dataDir = path.join(tmpdir(), uniqueName("reco-npm-restart"));
      // A small demo set (the catalog, the first 3,000 ratings) keeps the first start short.
      const demo = path.join(dataDir, "demo");
      await mkdir(demo, { recursive: true });
      const source = path.join(repoRoot, "data", "ml-latest-small");
      await writeFile(
        path.join(demo, "movies.csv"),
        await readFile(path.join(source, "movies.csv")),
      );
      const ratings = (await readFile(path.join(source, "ratings.csv"), "utf8")).split("\n");
      await writeFile(path.join(demo, "ratings.csv"), ratings.slice(0, 3_001).join("\n") + "\n");
      const apiPort = await consecutiveFreePorts(1);
      const env = {
        DATA_DIR: path.join(dataDir, "data"),
        DEMO_DATA_DIR: demo,
        DATABASE_URL: "",
        REDIS_URL: "",
        KAFKA_BROKERS: "",
        API_INSTANCES: "",
        PORT: String(apiPort),
        WEB_PORT: String(await consecutiveFreePorts(1)),
      };
      const first = new Launcher(env);
      launchers.push(first);
      expect(await first.ready(480_000)).toMatch(/^Reco is running \(embedded mode, ready in/);

      first.interrupt();
      await new Promise((resolve) => setTimeout(resolve, 300));
      // still stopping (the api drains, closes the database): the new start has to wait for it
      expect(first.running()).toBe(true);
      const second = new Launcher(env);
      launchers.push(second);
      await second.ready(240_000);
      expect((await first.exited).code).toBe(0);
      expect(second.output).toContain(
        `waiting for the previous npm start (process ${first.pid}) to finish stopping`,
      );
      expect(second.output).not.toMatch(/DatabaseLocked|in use by process/);
      const health = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
      expect(health.status).toBe(200);
      const key = (await readFile(path.join(env.DATA_DIR, "dev-api-key"), "utf8")).trim();
      const answer = await fetch(`http://127.0.0.1:${apiPort}/recommend/1?k=3`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(answer.status).toBe(200);

      second.interrupt();
      expect((await second.exited).code).toBe(0);
    });
  },
);
