/**
 * Where a cached GET /recommend's server CPU goes: the demo server (as run.ts builds it) is loaded
 * by a generator in its own process (cached paths, c = 32) while this process — the server — records
 * a CPU profile. Prints the self time per request (µs) by part and writes the .cpuprofile.
 *
 *   npx tsx bench/serve/profile.ts [--seconds 5] [--route cached|uncached|bare] [--out file] [--threads] [--alloc]
 *
 * --alloc: a sampling heap profile instead (objects collected since included): the bytes each
 * request allocates, by function — what the young-generation collections have to sweep.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ModelVersionStore } from "@reco/db";
import { loadSeparate, openDemoDatabase, publishDemoVersion, serveBench } from "./common.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    route: { type: "string", default: "cached" },
    out: { type: "string", default: "serve-cached.cpuprofile" },
    /** No profiler: the CPU each thread of the server's process spent per request, from /proc. */
    threads: { type: "boolean", default: false },
    /** No CPU profile: bytes allocated per request, by allocating function. */
    alloc: { type: "boolean", default: false },
  },
});

/** CPU time (µs) of each thread of this process, by thread id ("main" for the event loop's). */
async function threadCpuUs(): Promise<Map<string, number>> {
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  const byName = new Map<string, number>();
  for (const tid of await readdir("/proc/self/task")) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, "utf8").catch(() => "");
    const close = stat.lastIndexOf(")");
    if (close < 0) continue;
    const name = tid === String(process.pid) ? "main" : `thread ${tid}`;
    const fields = stat.slice(close + 2).split(" ");
    const us = (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
    byName.set(name, (byName.get(name) ?? 0) + us);
  }
  return byName;
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** The part of the request path a frame belongs to, by its file. */
function part(node: Node): string {
  const { url, functionName } = node.callFrame;
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)" || functionName === "(program)") return functionName;
  const rules: [RegExp, string][] = [
    [/packages\/serving\/src\/recommender/, "serving: recommender (cache key, answer, exposure)"],
    [/packages\/serving\/src\/resolver|rollout|experiment/, "serving: model resolver"],
    [/packages\/serving\/src\/auth/, "serving: API key auth"],
    [/packages\/serving\/src\/rate-limit/, "serving: rate limiter"],
    [/packages\/serving\/src\/exposure|event-queue/, "serving: exposure events / queue"],
    [/packages\/serving\/src/, "serving: other"],
    [/packages\/cache\//, "cache"],
    [/packages\/bus\//, "bus (file log)"],
    [/apps\/api\/src/, "api: routes and hooks"],
    [/node_modules\/prom-client/, "prom-client metrics"],
    [/node_modules\/pino|node_modules\/thread-stream|sonic-boom/, "pino logging"],
    [/node_modules\/zod/, "zod"],
    [/node_modules\/@fastify\/cors/, "@fastify/cors"],
    [
      /node_modules\/(fastify|find-my-way|light-my-request|avvio|fast-json-stringify|@fastify)/,
      "fastify",
    ],
    [/node_modules\//, "other dependencies"],
    [/^node:(_http|http|net|stream|internal\/http|internal\/streams)/, "node http/net"],
    [/^node:/, "node other"],
  ];
  for (const [re, name] of rules) if (re.test(url)) return name;
  return url === "" ? "native / V8 builtins" : "other";
}

interface SamplingNode {
  callFrame: Node["callFrame"];
  selfSize: number;
  children: SamplingNode[];
}

/** Bytes allocated per request by function (V8's sampling heap profiler, garbage included). */
async function allocationProfile(job: Parameters<typeof loadSeparate>[0]): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const figures = await loadSeparate(job);
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
    profile: { head: SamplingNode };
  };
  session.disconnect();
  const bytes = new Map<string, number>();
  let total = 0;
  const visit = (node: SamplingNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || "(anonymous)"} ${url.replace(/.*node_modules\//, "").replace(/.*\/(packages|apps)\//, "$1/")}:${lineNumber + 1}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(visit);
  };
  visit(profile.head);
  const n = figures.total;
  console.log(
    `${values.route}: ${figures.rps.toFixed(0)} req/s (${n} requests); allocated ${(total / n).toFixed(0)} bytes per request (sampled)\n`,
  );
  console.log("| allocating function | bytes per request |\n|---|---:|");
  for (const [where, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(`| ${where} | ${(b / n).toFixed(0)} |`);
}

const work = await mkdtemp(path.join(tmpdir(), "bench-serve-prof-"));
try {
  const db = await openDemoDatabase(work);
  const published = await publishDemoVersion(db, work);
  await new ModelVersionStore(db.prisma).setStage({ id: published.id }, "stable", {
    by: "bench",
    reason: "profile",
  });
  const server = await serveBench(db, work, "prof", { options: { batchWindowMs: 1 } });
  const paths =
    values.route === "bare" ? ["/healthz"] : published.users.map((u) => `/recommend/${u}?k=10`);
  if (values.route === "cached")
    for (const p of paths)
      await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${server.key}` } });
  const job = {
    url: server.url,
    key: server.key,
    connections: 32,
    seconds: Number(values.seconds),
    paths,
    ...(values.route === "uncached" ? { suffix: "&exclude=p" } : {}),
  };
  await loadSeparate({ ...job, seconds: 1 }); // warm-up (JIT)
  if (values.threads) {
    const before = await threadCpuUs();
    const figures = await loadSeparate(job);
    const after = await threadCpuUs();
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}; ${values.route}: ${figures.rps.toFixed(0)} req/s, p99 ${figures.p99} ms, ` +
        `server CPU ${figures.cpuPerRequestUs.toFixed(1)} µs/req (${figures.total} requests)\n`,
    );
    console.log("| thread | CPU µs per request |\n|---|---:|");
    const rows = [...after].map(([name, us]) => [name, us - (before.get(name) ?? 0)] as const);
    for (const [name, us] of rows.filter(([, us]) => us > 0).sort((a, b) => b[1] - a[1]))
      console.log(`| ${name} | ${(us / figures.total).toFixed(1)} |`);
    await server.close();
    await db.close();
    process.exit(0);
  }
  if (values.alloc) {
    await allocationProfile(job);
    await server.close();
    await db.close();
    process.exit(0);
  }
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  const figures = await loadSeparate(job);
  const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
  session.disconnect();
  await writeFile(values.out, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const fnUs = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    const p = part(node);
    selfUs.set(p, (selfUs.get(p) ?? 0) + dt);
    const f = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/.*node_modules\//, "").replace(/.*\/work\/main\//, "")}:${node.callFrame.lineNumber + 1}`;
    fnUs.set(f, (fnUs.get(f) ?? 0) + dt);
  }
  const n = figures.total;
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}; ${values.route}: ${figures.rps.toFixed(0)} req/s, p99 ${figures.p99} ms, ` +
      `server CPU ${figures.cpuPerRequestUs.toFixed(1)} µs/req (${n} requests)\n`,
  );
  console.log("| part | µs per request (self time) |\n|---|---:|");
  const busy = [...selfUs].filter(([p]) => p !== "(idle)");
  for (const [p, us] of busy.sort((a, b) => b[1] - a[1]))
    console.log(`| ${p} | ${(us / n).toFixed(1)} |`);
  console.log(`| total (not idle) | ${(busy.reduce((s, [, us]) => s + us, 0) / n).toFixed(1)} |`);
  console.log("\ntop functions (self µs/request):");
  for (const [f, us] of [...fnUs].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(`${(us / n).toFixed(2).padStart(7)}  ${f}`);
  await server.close();
  await db.close();
} finally {
  await rm(work, { recursive: true, force: true });
}
