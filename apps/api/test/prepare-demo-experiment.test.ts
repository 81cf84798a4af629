import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Embedded mode: the bucket that `npm test` exports for the S3 suites is not this suite's. */
const withoutS3 = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("S3_")),
);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** `prepare-demo.ts` as `npm start` runs it (embedded database in DATA_DIR). */
function prepare(env: Record<string, string>) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "apps/api/src/prepare-demo.ts"], {
    cwd: root,
    env: { ...withoutS3, DATABASE_URL: "", DEMO_FIT_ON: "train", ...env },
    encoding: "utf8",
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`prepare-demo exited ${run.status}:\n${run.stderr}`);
  return run.stdout;
}

async function experimentsIn(dataDir: string) {
  const db = await openDatabase({ dataDir, migrate: false });
  try {
    const experiments = await db.prisma.experiment.findMany({ include: { variants: true } });
    const versions = await db.prisma.modelVersion.findMany();
    return { experiments, versions };
  } finally {
    await db.close();
  }
}

describe("prepare-demo: the demo experiment", { timeout: 600_000 }, () => {
  let work: string;
  let demo: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "prepare-demo-"));
    // A small demo set (the catalog, the first 3,000 ratings) keeps the trainings short.
    demo = path.join(work, "demo");
    await mkdir(demo);
    const source = path.join(root, "data", "ml-latest-small");
    await writeFile(path.join(demo, "movies.csv"), await readFile(path.join(source, "movies.csv")));
    const ratings = (await readFile(path.join(source, "ratings.csv"), "utf8")).split("\n");
    await writeFile(path.join(demo, "ratings.csv"), ratings.slice(0, 3_001).join("\n") + "\n");
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a fresh start creates and starts it (iALS control vs item-kNN, click-through); a second start leaves it alone", async () => {
    const dataDir = path.join(work, "data");
    const first = prepare({ DATA_DIR: dataDir, DEMO_DATA_DIR: demo });
    expect(first).toContain("[prepare] demo experiment demo-ials-vs-item-knn started");
    const after = await experimentsIn(dataDir);
    expect(after.experiments).toHaveLength(1);
    const [experiment] = after.experiments;
    expect(experiment!.key).toBe("demo-ials-vs-item-knn");
    expect(experiment!.status).toBe("running");
    expect(experiment!.primaryMetric).toBe("click_through");
    const nameOf = (id: number | null) => after.versions.find((v) => v.id === id)?.name;
    const arms = experiment!.variants
      .map((v) => ({
        name: v.name,
        control: v.isControl,
        model: nameOf(v.modelVersionId),
        weight: v.weight,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(arms).toEqual([
      { name: "ials", control: true, model: "ials-demo", weight: 50 },
      { name: "item-knn", control: false, model: "item-knn-demo", weight: 50 },
    ]);

    const second = prepare({ DATA_DIR: dataDir, DEMO_DATA_DIR: demo });
    expect(second).toContain("[prepare] demo experiment demo-ials-vs-item-knn already exists");
    const again = await experimentsIn(dataDir);
    expect(again.experiments.map((e) => [e.id, e.status])).toEqual([[experiment!.id, "running"]]);
  });

  it("DEMO_EXPERIMENT=0: no experiment on a fresh start", async () => {
    const dataDir = path.join(work, "data-off");
    const output = prepare({ DATA_DIR: dataDir, DEMO_DATA_DIR: demo, DEMO_EXPERIMENT: "0" });
    expect(output).not.toContain("demo experiment");
    const { experiments, versions } = await experimentsIn(dataDir);
    expect(versions.map((v) => v.name).sort()).toEqual(["ials-demo", "item-knn-demo"]);
    expect(experiments).toEqual([]);
  });
});
