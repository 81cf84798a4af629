import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, waitFor } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardExpressions, exposedNames, metricNames, ruleExpressions } from "./promql.ts";
import { infrastructureTools, root } from "./tools.ts";

const rulesFile = path.join(root, "deploy/prometheus/alerts.rules.yml");
const dashboardFile = path.join(root, "deploy/grafana/reco-dashboard.json");

describe("the PromQL scanner, on expressions with known answers", () => {
  it("finds selectors with and without matchers, and not functions, labels, numbers or strings", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_seconds_bucket{route=~"/a.*|b"}[5m]))) > 1e-3',
      ),
    ).toEqual(["http_seconds_bucket"]);
    expect(
      metricNames(
        "sum(rate(a_total[5m] offset 1h)) / on (job) group_left (x) clamp_min(sum(b_total), 1) and c:recorded > 0.5",
      ).sort(),
    ).toEqual(["a_total", "b_total", "c:recorded"]);
    expect(metricNames('scalar(up{job="sum"}) * 2 + max without (instance) (mem_bytes)')).toEqual([
      "up",
      "mem_bytes",
    ]);
  });

  it("reads inline and block expr values of a rules file", () => {
    const yaml = [
      "groups:",
      "  - name: g",
      "    rules:",
      "      - alert: A",
      "        expr: a_total > 1",
      "        for: 5m",
      "      - alert: B",
      "        expr: |",
      "          sum(b_total)",
      "            / sum(c_total)",
      "        labels: {}",
      "      - record: r",
      "        expr: 'd_total'",
    ].join("\n");
    expect(ruleExpressions(yaml)).toEqual([
      "a_total > 1",
      "sum(b_total) / sum(c_total)",
      "d_total",
    ]);
  });

  it("lists histogram series and families without samples from an exposition", () => {
    const names = exposedNames(
      [
        "# HELP h x",
        "# TYPE h histogram",
        'h_bucket{le="1"} 0',
        "# HELP c y",
        "# TYPE c counter",
      ].join("\n"),
    );
    expect([...names].sort()).toEqual(["c", "h", "h_bucket", "h_count", "h_sum"]);
  });
});

describe("promtool check rules (Debian's prometheus package)", () => {
  it("passes, and counts as many rules as the scanner finds expressions", async () => {
    const { promtool } = infrastructureTools();
    const { stdout } = await promisify(execFile)(promtool, ["check", "rules", rulesFile]);
    const found = /SUCCESS: (\d+) rules found/.exec(stdout);
    expect(found, stdout).not.toBeNull();
    expect(ruleExpressions(await readFile(rulesFile, "utf8"))).toHaveLength(Number(found![1]));
  });

  it("promtool test rules: the alerts fire, and stay quiet, on series with hand-computed outcomes", async () => {
    const { promtool } = infrastructureTools();
    const { stdout } = await promisify(execFile)(promtool, [
      "test",
      "rules",
      path.join(root, "deploy/prometheus/alerts.test.yml"),
    ]);
    expect(stdout).toContain("SUCCESS");
  });

  it("rejects a rules file with a broken expression, so the check above has teeth", async () => {
    const { promtool } = infrastructureTools();
    const dir = await mkdtemp(path.join(os.tmpdir(), "reco-rules-"));
    try {
      const broken = path.join(dir, "broken.yml");
      await writeFile(
        broken,
        (await readFile(rulesFile, "utf8")).replace("> 100000", "> > 100000"),
      );
      await expect(promisify(execFile)(promtool, ["check", "rules", broken])).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("every metric the alert rules and the dashboard read is exported by a live api or stream worker", () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const exposed = new Set<string>();

  /** A real app process (node --import tsx, as npm start runs it), its output kept for errors. */
  async function start(entry: string, env: Record<string, string>, metricsUrl: () => string) {
    const output: string[] = [];
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", KAFKA_BROKERS: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    let body = "";
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${entry} exited: ${output.join("")}`);
        const response = await fetch(metricsUrl()).catch(() => null);
        if (!response?.ok) return false;
        body = await response.text();
        return true;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        description: () => `${entry} /metrics (${output.join("")})`,
      },
    );
    return body;
  }

  beforeAll(async () => {
    const apiDir = await mkdtemp(path.join(os.tmpdir(), "reco-metrics-api-"));
    const workerDir = await mkdtemp(path.join(os.tmpdir(), "reco-metrics-worker-"));
    dirs.push(apiDir, workerDir);
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const [api, worker] = await Promise.all([
      start(
        "apps/api/src/main.ts",
        { DATA_DIR: apiDir, PORT: String(apiPort), LOG_LEVEL: "warn" },
        () => `http://127.0.0.1:${apiPort}/metrics`,
      ),
      start(
        "apps/stream-worker/src/main.ts",
        { DATA_DIR: workerDir, WORKER_PORT: String(workerPort), LOG_LEVEL: "warn" },
        () => `http://127.0.0.1:${workerPort}/metrics`,
      ),
    ]);
    for (const body of [api, worker]) for (const name of exposedNames(body)) exposed.add(name);
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("the processes export the serving and the stream metrics at all", () => {
    expect(exposed).toContain("reco_http_request_duration_seconds_bucket");
    expect(exposed).toContain("stream_worker_consumer_lag");
  });

  it("rules and dashboard name only exported metrics", async () => {
    const exprs = [
      ...ruleExpressions(await readFile(rulesFile, "utf8")),
      ...dashboardExpressions(JSON.parse(await readFile(dashboardFile, "utf8"))),
    ];
    const named = new Set(exprs.flatMap(metricNames));
    expect(named.size).toBeGreaterThan(20);
    const missing = [...named].filter((name) => !exposed.has(name)).sort();
    expect(missing).toEqual([]);
  });
});
