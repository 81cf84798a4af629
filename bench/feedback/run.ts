/**
 * POST /feedback throughput, durable vs queued acknowledgement, side by side in one run (c = 32).
 *
 *   durable  (the default): 202 once the bus stored the events — the file log wrote and fdatasync'd
 *            them; concurrent requests share the event queue's publishes (group commit).
 *   queued   (FEEDBACK_ACK=queued, UNSAFE): 202 once the events are in the in-memory queue; a crash
 *            loses them. Kept only as this baseline.
 *
 * Two servers over the embedded adapters (each its own file-log bus on the same disk), one loaded at
 * a time by a generator in its own process (bench/serve/load-generator.ts), with bodies of 1 and of
 * 100 events. Rounds interleave the four cases (durable-1, queued-1, durable-100, queued-100); the
 * durable/queued ratio is taken per round, then the median. Throughput counts acknowledged (2xx)
 * requests only: a queued server whose queue is full answers 503 fast, which is not throughput.
 * Between runs the queued server's backlog is flushed (untimed), so every run starts empty.
 *
 *   npx tsx bench/feedback/run.ts [--seconds 3] [--rounds 5] [--connections 32]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "@reco/db";
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

/** 64 bodies of `size` events each, over 64 users (so every partition of each topic gets some). */
function bodies(size: number): string[] {
  const types = ["click", "rate", "watch"] as const;
  return Array.from({ length: 64 }, (_, b) => {
    const events = Array.from({ length: size }, (_, i) => {
      const type = types[(b + i) % 3]!;
      return {
        userId: `bench-user-${(b * 7 + i) % 64}`,
        itemId: `item-${(b * 131 + i) % 5_000}`,
        type,
        ...(type === "rate" ? { value: 4 } : type === "watch" ? { value: 0.5 } : {}),
      };
    });
    return JSON.stringify(size === 1 ? events[0] : { events });
  });
}

type Mode = "durable" | "queued";
const SIZES = [1, 100] as const;

const dir = await mkdtemp(path.join(tmpdir(), "bench-feedback-"));
const db = await openDatabase({ dataDir: dir });
const servers = {
  durable: await serveBench(db, dir, "durable", { options: { feedbackAck: "durable" } }),
  queued: await serveBench(db, dir, "queued", {
    options: { feedbackAck: "queued", eventQueueCapacity: 100_000 },
  }),
};
const payloads = { 1: path.join(dir, "bodies-1.json"), 100: path.join(dir, "bodies-100.json") };
await writeFile(payloads[1], JSON.stringify(bodies(1)));
await writeFile(payloads[100], JSON.stringify(bodies(100)));
/** Acknowledged requests per second: the generator's req/s less the non-2xx share. */
const acknowledged = (f: Figures) => (f.total > 0 ? (f.rps * (f.total - f.errors)) / f.total : 0);

const runs: Record<string, Figures[]> = {};
const ratios: Record<number, number[]> = { 1: [], 100: [] };
console.log(
  `POST /feedback, c = ${connections}, ${rounds} rounds × ${seconds} s per case, load avg ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
try {
  // warm-up: JIT, the log files' first appends
  for (const mode of ["durable", "queued"] as Mode[])
    await loadSeparate({
      url: servers[mode].url,
      key: servers[mode].key,
      connections,
      seconds: 1,
      paths: ["/feedback"],
      method: "POST",
      bodiesFile: payloads[100],
    });
  for (let round = 0; round < rounds; round++) {
    for (const size of SIZES) {
      const figures = {} as Record<Mode, Figures>;
      for (const mode of ["durable", "queued"] as Mode[]) {
        const server = servers[mode];
        await server.runtime.events.flush(60_000);
        figures[mode] = await loadSeparate({
          url: server.url,
          key: server.key,
          connections,
          seconds,
          paths: ["/feedback"],
          method: "POST",
          bodiesFile: payloads[size],
        });
        (runs[`${mode}-${size}`] ??= []).push(figures[mode]);
      }
      ratios[size]!.push(acknowledged(figures.durable) / acknowledged(figures.queued));
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }

  console.log(
    "\n| events per request | ack | req/s (2xx) | events/s | p50 ms | p99 ms | non-2xx | server CPU µs/req |",
  );
  console.log("|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const size of SIZES) {
    for (const mode of ["durable", "queued"] as Mode[]) {
      const all = runs[`${mode}-${size}`]!;
      const rps = median(all.map(acknowledged));
      console.log(
        `| ${size} | ${mode} | ${rps.toFixed(0)} | ${(rps * size).toFixed(0)} | ${median(all.map((f) => f.p50))} | ${median(all.map((f) => f.p99))} | ${all.reduce((s, f) => s + f.errors, 0)} | ${median(all.map((f) => f.cpuPerRequestUs)).toFixed(0)} |`,
      );
    }
  }
  for (const size of SIZES) {
    const ratio = median(ratios[size]!);
    console.log(
      `\ndurable / queued, ${size} event(s) per request: ${(ratio * 100).toFixed(0)} % (median of per-round ratios: ${ratios[
        size
      ]!.map((r) => (r * 100).toFixed(0)).join(", ")})`,
    );
  }
  const published = await servers.durable.runtime.metrics.value(
    servers.durable.runtime.metrics.eventsPublished,
  );
  console.log(`\nevents stored by the durable server: ${published}`);
} finally {
  await servers.durable.close();
  await servers.queued.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
