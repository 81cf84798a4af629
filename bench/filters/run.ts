/**
 * Category filters on /recommend at 100k items: an uncached filtered request against the same
 * request unfiltered, on one server (embedded adapters) serving a synthetic 100k-item, 64-factor
 * model (as bench/serve's synthetic part) over a catalog of 100k items in 20 categories of 5 %
 * each, plus a "rare" one of 1 %. Every request is a new cache key (a unique exclude), so each one
 * is scored. The variants run in interleaved rounds, loaded by a generator in its own process;
 * ratios are per round, then the median. Prints req/s, p50/p99, the server's CPU per request and
 * its RSS. Target: a filtered request within 2× of an unfiltered one.
 *
 *   npx tsx bench/filters/run.ts [--seconds 3] [--rounds 5] [--connections 32]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
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

  // Synthetic users have no recorded history: every known user goes straight to the model.
  const server = await serveBench(db, work, "filters", {
    options: { routing: { foldInMinInteractions: 0, warmMinInteractions: 0 } },
  });
  const get = (query: string, user = "u0") =>
    fetch(`${server.url}/recommend/${user}?k=10${query}`, {
      headers: { authorization: `Bearer ${server.key}` },
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { items: { itemId: string; reason: string }[] },
    }));
  // Warm the session, and check each filter gives 10 model items of its category.
  const variants = [
    { label: "unfiltered", query: "" },
    { label: "category=g3 (5 %)", query: "&category=g3" },
    { label: "excludeCategory=g3 (95 %)", query: "&excludeCategory=g3" },
    { label: "category=rare (1 %)", query: "&category=rare" },
  ];
  // What the filter costs in quality: how many of 10 items still come from the model (the rest
  // are popular items within the filter), over 100 users.
  for (const { label, query } of variants) {
    let items = 0;
    let fromModel = 0;
    for (let u = 0; u < 100; u += 1) {
      const { status, body } = await get(query, `u${u}`);
      if (status !== 200) throw new Error(`${label}: status ${status}`);
      items += body.items.length;
      fromModel += body.items.filter((item) => item.reason === "personalized").length;
    }
    console.log(
      `${label}: ${(items / 100).toFixed(1)} items per answer, ${(fromModel / 100).toFixed(1)} from the model`,
    );
  }

  let bust = 0;
  const perRound: Figures[][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const figures: Figures[] = [];
    for (const { query } of variants)
      figures.push(
        await loadSeparate({
          url: server.url,
          key: server.key,
          connections,
          seconds,
          paths: users.map((u) => `/recommend/${u}?k=10${query}`),
          suffix: `&exclude=x${bust++}y`,
        }),
      );
    perRound.push(figures);
    console.log(
      `round ${round}: ` +
        variants.map(({ label }, i) => `${label} ${figures[i]!.rps.toFixed(0)} req/s`).join(", "),
    );
  }
  const rss = process.memoryUsage().rss;
  await server.close();

  console.log(`\nmedian of ${rounds} rounds (c = ${connections}, ${seconds} s each, uncached):\n`);
  console.log(
    "| request | req/s | p50 ms | p99 ms | server CPU µs/req | errors | unfiltered / filtered req/s |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  variants.forEach(({ label }, i) => {
    const pick = (f: (x: Figures) => number) => median(perRound.map((r) => f(r[i]!)));
    const slowdown = median(perRound.map((r) => r[0]!.rps / r[i]!.rps));
    console.log(
      `| ${label} | ${pick((x) => x.rps).toFixed(0)} | ${pick((x) => x.p50).toFixed(0)} | ${pick((x) => x.p99).toFixed(0)} | ${pick((x) => x.cpuPerRequestUs).toFixed(0)} | ${pick((x) => x.errors)} | ${slowdown.toFixed(2)}× |`,
    );
  });
  console.log(
    `\nserver RSS after the runs: ${(rss / 1024 / 1024).toFixed(0)} MB (target: filtered within 2×)`,
  );
} finally {
  await db.close();
  await rm(work, { recursive: true, force: true });
}
