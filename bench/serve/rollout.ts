/**
 * Serving with an active canary rollout vs none, side by side (c = 32, the load generator in its
 * own process): two servers over the same demo catalog, model and database, both with the
 * production resolver chain Rollout(Experiment(Stable)); one sees a rollout at its 50 % stage (a
 * second registered version as the candidate), the other sees no active rollout. Rounds alternate
 * (none, active, none, …) and the ratio is the median of the per-round ratios.
 *
 *   npx tsx bench/serve/rollout.ts [--seconds 3] [--rounds 7] [--connections 32] [--uncached]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModelVersionStore, type Database } from "@reco/db";
import { ExperimentAssigner, ExperimentModelResolver } from "@reco/experiments/store";
import {
  RolloutController,
  RolloutModelResolver,
  RolloutRouting,
  RolloutService,
} from "@reco/rollouts/store";
import { StableModelResolver } from "@reco/serving";
import {
  loadSeparate,
  median,
  openDemoDatabase,
  publishDemoVersion,
  serveBench,
  type Figures,
} from "./common.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "7" },
    connections: { type: "string", default: "32" },
    uncached: { type: "boolean", default: false },
  },
});

function load(url: string, key: string, paths: string[], suffix?: string): Promise<Figures> {
  return loadSeparate({
    url,
    key,
    connections: Number(values.connections),
    seconds: Number(values.seconds),
    paths,
    ...(suffix ? { suffix } : {}),
  });
}

/** A server with the production resolver chain Rollout(Experiment(Stable)). */
async function serve(
  db: Database,
  dir: string,
  label: string,
  routing: Pick<RolloutRouting, "active">,
) {
  const assigner = new ExperimentAssigner(db.prisma);
  await assigner.start();
  return serveBench(db, dir, label, {
    resolver: new RolloutModelResolver(
      routing,
      new ExperimentModelResolver(
        assigner,
        new StableModelResolver(new ModelVersionStore(db.prisma), 1_000),
      ),
    ),
    onClose: () => assigner.close(),
  });
}

const work = await mkdtemp(path.join(tmpdir(), "bench-rollout-"));
try {
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        " ",
      )}; c = ${values.connections}, ${values.seconds} s per run, ${values.uncached ? "uncached" : "cached"} /recommend\n`,
  );
  const db = await openDemoDatabase(work);
  const store = new ModelVersionStore(db.prisma);
  const stable = await publishDemoVersion(db, work, "v1");
  await store.setStage({ id: stable.id }, "stable", { by: "bench", reason: "baseline" });
  await publishDemoVersion(db, work, "v2");
  // A real rollout: started, first stage entered by the controller, promoted by hand to 50 %.
  const rollouts = new RolloutService(db.prisma, store);
  const { rollout } = await rollouts.start({ candidate: { name: "ials", version: "v2" } }, "bench");
  await new RolloutController(db.prisma, rollouts).tick();
  const current = await rollouts.get(rollout.id);
  await rollouts.act({
    id: rollout.id,
    action: "promote",
    expectedVersion: current.version,
    actor: "bench",
  });
  const routing = new RolloutRouting(db.prisma);
  await routing.start();
  console.log(
    `active rollout ${rollout.id}: ${routing.active.map((r) => `${r.trafficPct} % to ials@v2`).join(", ")}\n`,
  );

  const none = await serve(db, work, "none", { active: [] });
  const active = await serve(db, work, "active", routing);
  const paths = stable.users.map((u) => `/recommend/${u}?k=10`);
  // every user's answer cached on both servers (the rollout's under its arm's key); a second pass
  // shows what the load will hit: cached answers, and which version and arm served them
  for (const [label, server] of [
    ["none", none],
    ["active", active],
  ] as const) {
    const seen = new Map<string, number>();
    for (let pass = 0; pass < 2; pass++)
      for (const p of paths) {
        const response = await fetch(`${server.url}${p}`, {
          headers: { authorization: `Bearer ${server.key}` },
        });
        const body = (await response.json()) as Record<string, unknown>;
        if (pass === 1) {
          const what = `${String(body.modelVersion)} ${String(body.variant ?? "-")} cached=${String(body.cached)} fallback=${String(body.fallback)}`;
          seen.set(what, (seen.get(what) ?? 0) + 1);
        }
      }
    console.log(`${label}: ${[...seen].map(([what, n]) => `${n} × ${what}`).join("; ")}`);
  }
  const suffix = values.uncached ? "&exclude=b" : undefined;
  const ratios: number[] = [];
  const cpu: [number, number][] = [];
  const p99s: [number, number][] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    // which server goes first alternates, so neither always runs right after the other's load
    const first = round % 2 ? none : active;
    const second = first === none ? active : none;
    const a = await load(first.url, first.key, paths, suffix);
    const b = await load(second.url, second.key, paths, suffix);
    const [base, with_] = first === none ? [a, b] : [b, a];
    ratios.push(with_.rps / base.rps);
    cpu.push([base.cpuPerRequestUs, with_.cpuPerRequestUs]);
    p99s.push([base.p99, with_.p99]);
    console.log(
      `round ${round}: none ${base.rps.toFixed(0)} req/s (p99 ${base.p99} ms, ${base.errors} errors), ` +
        `active rollout ${with_.rps.toFixed(0)} req/s (p99 ${with_.p99} ms, ${with_.errors} errors): ${(ratios.at(-1)! * 100).toFixed(1)} %; ` +
        `server CPU ${base.cpuPerRequestUs.toFixed(1)} vs ${with_.cpuPerRequestUs.toFixed(1)} µs per request`,
    );
  }
  console.log(
    `\nmedian of ${values.rounds} rounds — with an active rollout: ${(median(ratios) * 100).toFixed(1)} % of the throughput without ` +
      `(rounds ${(Math.min(...ratios) * 100).toFixed(1)}–${(Math.max(...ratios) * 100).toFixed(1)} %; target ≥ 95 %); ` +
      `median p99 ${median(p99s.map((p) => p[0]))} vs ${median(p99s.map((p) => p[1]))} ms; ` +
      `server CPU per request ${median(cpu.map((c) => c[0])).toFixed(1)} vs ${median(cpu.map((c) => c[1])).toFixed(1)} µs ` +
      `(${((median(cpu.map((c) => c[0] / c[1])) || 0) * 100).toFixed(1)} % as efficient)`,
  );
  routing.close();
  await none.close();
  await active.close();
  await db.close();
} finally {
  await rm(work, { recursive: true, force: true });
}
