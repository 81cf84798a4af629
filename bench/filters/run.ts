/**
 * Category filters on /recommend at 100k items: an uncached filtered request against the same
 * request unfiltered, on one server (embedded adapters) serving a synthetic 100k-item, 64-factor
 * model (as bench/serve's synthetic part) over a catalog of 100k items in 20 categories of 5 %
 * each, plus a "rare" one of 1 %; narrow filters at the default cap of 64 model candidates and at
 * 128 (two servers side by side), with how many of the 10 items still come from the model. Every request is a new cache key (a unique exclude), so each one
 * is scored. The variants run in interleaved rounds, loaded by a generator in its own process;
 * ratios are per round, then the median. Prints req/s, p50/p99, the server's CPU per request and
 * its RSS. Target: a filtered request within 2× of an unfiltered one.
 *
 *   npx tsx bench/filters/run.ts [--seconds 3] [--rounds 5] [--connections 32]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModelVersionStore, openDatabase } from "@reco/db";
import { publishVersion, recordModelVersion, seededRandom, type FactorParams } from "@reco/ml";
import { loadSeparate, median, serveBench, type Figures } from "../serve/common.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

const N_ITEMS = 100_000;
const N_USERS = 2_000;
const FACTORS = 64;
const CATEGORIES = 20;

const work = await mkdtemp(path.join(tmpdir(), "bench-filters-"));
const db = await openDatabase({ dataDir: work });
try {
  const itemIds = Array.from({ length: N_ITEMS }, (_, i) => `i${i}`);
  for (let start = 0; start < N_ITEMS; start += 10_000)
    await db.prisma.item.createMany({
      data: itemIds.slice(start, start + 10_000).map((externalId, j) => {
        const i = start + j;
        return {
          externalId,
          title: `Item ${i}`,
          genres: i % 100 === 0 ? [`g${i % CATEGORIES}`, "rare"] : [`g${i % CATEGORIES}`],
        };
      }),
    });
  const rnd = seededRandom(1);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.1);
  const params: FactorParams = {
    kind: "factors",
    factors: FACTORS,
    nUsers: N_USERS,
    nItems: N_ITEMS,
    userFactors: fill(N_USERS * FACTORS),
    itemFactors: fill(N_ITEMS * FACTORS),
    regularization: 0.1,
    alpha: 1,
  };
  const users = Array.from({ length: N_USERS }, (_, u) => `u${u}`);
  const published = await publishVersion({
    registryDir: path.join(work, "registry"),
    name: "synthetic",
    algorithm: "ials",
    params,
    idMaps: { users, items: itemIds },
    data: {
      source: "synthetic",
      from: null,
      to: null,
      nUsers: N_USERS,
      nItems: N_ITEMS,
      nInteractions: 0,
    },
  });
  const id = await recordModelVersion(db.prisma, published.dir, published.metadata);
  await new ModelVersionStore(db.prisma).setStage({ id }, "stable", {
    by: "bench",
    reason: "filters",
  });

  // Synthetic users have no recorded history: every known user goes straight to the model. Two
  // servers: the default cap on a filtered answer's model candidates (64) and a wider one (128).
  const routing = { foldInMinInteractions: 0, warmMinInteractions: 0 };
  const servers = {
    128: await serveBench(db, work, "cap128", { options: { routing, maxFilterCandidates: 128 } }),
    64: await serveBench(db, work, "cap64", { options: { routing, maxFilterCandidates: 64 } }),
  };
  const variants = [
    { label: "unfiltered", query: "", cap: 64 },
    { label: "excludeCategory=g3 (95 %)", query: "&excludeCategory=g3", cap: 64 },
    { label: "category=g3 (5 %), cap 64 (default)", query: "&category=g3", cap: 64 },
    { label: "category=rare (1 %), cap 64 (default)", query: "&category=rare", cap: 64 },
    { label: "category=g3 (5 %), cap 128", query: "&category=g3", cap: 128 },
    { label: "category=rare (1 %), cap 128", query: "&category=rare", cap: 128 },
  ] as const;
  // What the filter costs in quality: how many of 10 items still come from the model (the rest
  // are popular items within the filter), over 100 users; this also loads each server's session.
  const fromModel: number[] = [];
  for (const { label, query, cap } of variants) {
    const server = servers[cap];
    let items = 0;
    let personal = 0;
    for (let u = 0; u < 100; u += 1) {
      const response = await fetch(`${server.url}/recommend/u${u}?k=10${query}`, {
        headers: { authorization: `Bearer ${server.key}` },
      });
      if (response.status !== 200) throw new Error(`${label}: status ${response.status}`);
      const body = (await response.json()) as { items: { reason: string }[] };
      items += body.items.length;
      personal += body.items.filter((item) => item.reason === "personalized").length;
    }
    fromModel.push(personal / 100);
    console.log(
      `${label}: ${(items / 100).toFixed(1)} items per answer, ${(personal / 100).toFixed(1)} from the model`,
    );
  }

  let bust = 0;
  const perRound: Figures[][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const figures: Figures[] = [];
    for (const { query, cap } of variants)
      figures.push(
        await loadSeparate({
          url: servers[cap].url,
          key: servers[cap].key,
          connections,
          seconds,
          paths: users.map((u) => `/recommend/${u}?k=10${query}`),
          suffix: `&exclude=x${bust++}y`,
        }),
      );
    perRound.push(figures);
    console.log(
      `round ${round} (load ${loadavg()[0]!.toFixed(1)}): ` +
        variants.map(({ label }, i) => `${label} ${figures[i]!.rps.toFixed(0)}`).join(", ") +
        " req/s",
    );
  }
  const rss = process.memoryUsage().rss;
  await servers[64].close();
  await servers[128].close();

  console.log(`\nmedian of ${rounds} rounds (c = ${connections}, ${seconds} s each, uncached):\n`);
  console.log(
    "| request | items from the model (of 10) | req/s | p50 ms | p99 ms | server CPU µs/req | errors | req/s: unfiltered / this | CPU: this / unfiltered |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  variants.forEach(({ label }, i) => {
    const pick = (f: (x: Figures) => number) => median(perRound.map((r) => f(r[i]!)));
    const slowdown = median(perRound.map((r) => r[0]!.rps / r[i]!.rps));
    const cpu = median(perRound.map((r) => r[i]!.cpuPerRequestUs / r[0]!.cpuPerRequestUs));
    console.log(
      `| ${label} | ${fromModel[i]!.toFixed(1)} | ${pick((x) => x.rps).toFixed(0)} | ${pick((x) => x.p50).toFixed(0)} | ${pick((x) => x.p99).toFixed(0)} | ${pick((x) => x.cpuPerRequestUs).toFixed(0)} | ${pick((x) => x.errors)} | ${slowdown.toFixed(2)}× | ${cpu.toFixed(2)}× |`,
    );
  });
  console.log(
    `\nprocess RSS after the runs (two servers, one 100k-item model each): ${(rss / 1024 / 1024).toFixed(0)} MB; target: a filtered request within 2× of an unfiltered one`,
  );
} finally {
  await db.close();
  await rm(work, { recursive: true, force: true });
}
