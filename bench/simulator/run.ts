/**
 * Is the simulator's click model honest? Two apis side by side on the demo catalog (MovieLens
 * latest-small, embedded adapters), one serving the demo iALS and one a random-items model (a
 * version whose factors are random numbers), each loaded by the simulator's CLI in its own process
 * with the same seed: the same synthetic users, the same past histories, the same visits. A click
 * model that rewards serving the users' held-out future gives iALS a clearly higher click-through;
 * target: at least 3× the random model's.
 *
 * Honest split: the iALS served here is fitted on the users' past only (the ratings the simulator
 * sends as history), never on the future it checks clicks against. The synthetic users are new ids
 * (sim<seed>-<userId>), so the model folds in the history they send, as for any new user.
 *
 *   npx tsx bench/simulator/run.ts [--users 200] [--visits 5] [--rps 100] [--seed 7]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { openDatabase } from "@reco/db";
import { importMovieLens } from "@reco/importer";
import {
  LogBuilder,
  buildInteractions,
  fitModel,
  publishVersion,
  recordModelVersion,
  seededRandom,
  type FactorParams,
} from "@reco/ml";
import { FixedModelResolver } from "@reco/serving";
import { loadReplayUsers, type SimulationStats } from "@reco/simulator";
import { serveBench } from "../serve/common.ts";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "200" },
    visits: { type: "string", default: "5" },
    rps: { type: "string", default: "100" },
    seed: { type: "string", default: "7" },
  },
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dataDir = path.join(root, "data/ml-latest-small");
const cli = path.join(root, "packages/simulator/src/cli/simulate.ts");
const run = promisify(execFile);

const work = await mkdtemp(path.join(tmpdir(), "bench-simulator-"));
try {
  const db = await openDatabase({ dataDir: work });
  const imported = await importMovieLens({
    prisma: db.prisma,
    snapshotsRoot: path.join(work, "snapshots"),
    moviesPath: path.join(dataDir, "movies.csv"),
    ratingsPath: path.join(dataDir, "ratings.csv"),
  });
  console.log(
    `demo catalog: ${imported.movies.stored} movies, ${imported.ratings.stored} ratings imported`,
  );

  // The train side: every user's past (the simulator's split), none of their future.
  const replay = await loadReplayUsers(path.join(dataDir, "ratings.csv"));
  const builder = new LogBuilder();
  for (const user of replay)
    for (const r of user.past) builder.add(user.userId, r.itemId, r.rating, r.timestamp);
  const log = builder.finish();
  const train = buildInteractions(log);
  const fitStarted = performance.now();
  const { model, params } = await fitModel("ials", train);
  console.log(
    `iALS fitted on the past of ${train.nUsers} users (${train.nItems} items) in ${((performance.now() - fitStarted) / 1000).toFixed(1)} s ` +
      `(${JSON.stringify(params)})`,
  );
  const data = {
    source: "ml-latest-small (past side)",
    from: null,
    to: null,
    nUsers: train.nUsers,
    nItems: train.nItems,
    nInteractions: log.length,
  };
  const registryDir = path.join(work, "registry");
  const ials = await publishVersion({
    registryDir,
    name: "ials",
    algorithm: "ials",
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data,
  });
  // The random-items model: the same catalog and shape, factors drawn at random.
  const factors = model.kind === "factors" ? model.factors : 64;
  const rnd = seededRandom(1);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.1);
  const randomParams: FactorParams = {
    kind: "factors",
    factors,
    nUsers: train.nUsers,
    nItems: train.nItems,
    userFactors: fill(train.nUsers * factors),
    itemFactors: fill(train.nItems * factors),
    regularization: 0.1,
    alpha: 1,
  };
  const random = await publishVersion({
    registryDir,
    name: "random",
    algorithm: "ials",
    params: randomParams,
    idMaps: train.ids,
    data,
  });
  const servers = [];
  for (const [label, published] of [
    ["random", random],
    ["ials", ials],
  ] as const) {
    await recordModelVersion(db.prisma, published.dir, published.metadata);
    const ref = {
      name: published.metadata.name,
      version: published.metadata.version,
      artifactPath: published.dir,
    };
    servers.push({
      label,
      server: await serveBench(db, work, label, { resolver: new FixedModelResolver({ ref }) }),
    });
  }

  const args = (url: string, key: string) => [
    "--import",
    "tsx",
    cli,
    "--api",
    url,
    "--key",
    key,
    "--users",
    values.users,
    "--visits",
    values.visits,
    "--rps",
    values.rps,
    "--seed",
    values.seed,
    "--duration",
    "10m",
    "--json",
  ];
  console.log(
    `simulating ${values.users} users × ${values.visits} visits against each, side by side, seed ${values.seed}, ≤ ${values.rps} req/s each\n`,
  );
  const results = await Promise.all(
    servers.map(async ({ label, server }) => {
      const { stdout } = await run(process.execPath, args(server.url, server.key), {
        cwd: root,
        maxBuffer: 16 << 20,
      });
      const stats = JSON.parse(stdout.trim().split("\n").at(-1)!) as SimulationStats;
      return { label, stats };
    }),
  );
  for (const { server } of servers) await server.close();
  await db.close();

  console.log(
    "| model | lists | clicks | on a held-out item | CTR | held-out items per list | errors |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const { label, stats } of results)
    console.log(
      `| ${label} | ${stats.lists} | ${stats.clicks} | ${stats.hitClicks} | ${(stats.ctr * 100).toFixed(1)} % | ${(stats.hits / Math.max(1, stats.lists)).toFixed(3)} | ${stats.errors} |`,
    );
  const [randomRun, ialsRun] = [results[0]!.stats, results[1]!.stats];
  const ratio = ialsRun.ctr / randomRun.ctr;
  console.log(
    `\niALS click-through / random-items click-through: ${ratio.toFixed(1)}× (target ≥ 3×) — ${ratio >= 3 ? "met" : "NOT met"}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
