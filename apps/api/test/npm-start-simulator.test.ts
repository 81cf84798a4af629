import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "@reco/db";
import { uniqueName, waitFor } from "@reco/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { consecutiveFreePorts, Launcher, repoRoot } from "./npm-start-launcher.ts";

describe("npm start runs the traffic simulator", { timeout: 600_000 }, () => {
  let dataDir: string;
  let launcher: Launcher | undefined;

  afterAll(async () => {
    if (launcher?.running()) {
      launcher.interrupt();
      await launcher.exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("sends traffic once the product is up; killed, it is reported and the product keeps serving", async () => {
    dataDir = path.join(tmpdir(), uniqueName("reco-npm-sim"));
    // A small demo set (the catalog, the first 3,000 ratings) keeps the first start short.
    const demo = path.join(dataDir, "demo");
    await mkdir(demo, { recursive: true });
    const source = path.join(repoRoot, "data", "ml-latest-small");
    await writeFile(path.join(demo, "movies.csv"), await readFile(path.join(source, "movies.csv")));
    const ratings = (await readFile(path.join(source, "ratings.csv"), "utf8")).split("\n");
    await writeFile(path.join(demo, "ratings.csv"), ratings.slice(0, 3_001).join("\n") + "\n");
    const apiPort = await consecutiveFreePorts(1);
    launcher = new Launcher({
      DATA_DIR: path.join(dataDir, "data"),
      DEMO_DATA_DIR: demo,
      DEMO_FIT_ON: "train",
      DATABASE_URL: "",
      REDIS_URL: "",
      KAFKA_BROKERS: "",
      API_INSTANCES: "",
      SIMULATE: "",
      SIMULATE_RPS: "20",
      SIMULATE_SEED: "5",
      PORT: String(apiPort),
      WEB_PORT: String(await consecutiveFreePorts(1)),
    });
    await launcher.ready(480_000);
    expect(launcher.bannerLine("Simulator")).toMatch(
      /^100 demo users replayed at ≤ 20 req\/s for 1h \(seed 5;/,
    );
    expect(launcher.output).toContain("[prepare] demo experiment demo-ials-vs-item-knn started");

    // progress lines with recommendations answered and no errors
    const progress = await waitFor(
      () => {
        const match = [
          ...launcher!.output.matchAll(
            /\[sim\] \d+ s: \d+ requests \((\d+) recommendations.*, (\d+) errors/g,
          ),
        ].at(-1);
        return match && Number(match[1]) > 0 ? match : null;
      },
      { timeoutMs: 60_000, intervalMs: 250, description: "a simulator progress line" },
    );
    expect(Number(progress[2])).toBe(0);

    const simulator = launcher.descendants("simulate.ts");
    expect(simulator.length).toBeGreaterThan(0);
    for (const pid of simulator) process.kill(pid, "SIGKILL");
    await waitFor(
      () => /\[start\] sim exited \(.+\); the rest keep running/.test(launcher!.output),
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: "the simulator's exit reported",
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(launcher.running()).toBe(true);
    const key = (await readFile(path.join(dataDir, "data", "dev-api-key"), "utf8")).trim();
    const answer = await fetch(`http://127.0.0.1:${apiPort}/recommend/1?k=3`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(answer.status).toBe(200);

    launcher.interrupt();
    expect((await launcher.exited).code).toBe(0);
  });

  it("--no-simulate: no simulator, and the banner says how it was turned off", async () => {
    const again = new Launcher(
      {
        DATA_DIR: path.join(dataDir, "data"),
        DEMO_DATA_DIR: path.join(dataDir, "demo"),
        DEMO_FIT_ON: "train",
        DATABASE_URL: "",
        REDIS_URL: "",
        KAFKA_BROKERS: "",
        API_INSTANCES: "",
        PORT: String(await consecutiveFreePorts(1)),
        WEB_PORT: String(await consecutiveFreePorts(1)),
      },
      ["--no-simulate"],
    );
    launcher = again;
    await again.ready(240_000);
    expect(again.bannerLine("Simulator")).toBe("off (--no-simulate / SIMULATE=0)");
    expect(again.descendants("simulate.ts")).toEqual([]);
    again.interrupt();
    expect((await again.exited).code).toBe(0);
    expect(again.output).not.toContain("[sim]");
    // the second start did not create the demo experiment again
    const db = await openDatabase({ dataDir: path.join(dataDir, "data"), migrate: false });
    try {
      const experiments = await db.prisma.experiment.findMany();
      expect(experiments.map((e) => [e.key, e.status])).toEqual([
        ["demo-ials-vs-item-knn", "running"],
      ]);
    } finally {
      await db.close();
    }
  });
});
