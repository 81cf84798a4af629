/**
 * The training CLI run as a child process (`node --import tsx packages/ml/src/cli/main.ts …`, what
 * `npm run train --` runs, minus npm's start-up) on small fixtures: exit codes, one-line messages,
 * registry and database side effects.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = "packages/ml/src/cli/main.ts";
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The registry under DATA_DIR: the bucket that `npm test` exports for the S3 suites is not this suite's. */
const localEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("S3_")),
);

function cli(args: string[], dataDir = path.join(work, "data")): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", MAIN, ...args],
      { cwd: repo, env: { ...localEnv, DATA_DIR: dataDir, DATABASE_URL: "" }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.replace(/^npm warn.*\n/gm, "") });
      },
    );
  });
}

const file = (name: string) => path.join(work, name);

/** Runs CLI invocations two at a time (the machine has two cores). */
async function cliAll(argLists: string[][]): Promise<Run[]> {
  const results: Run[] = [];
  for (let i = 0; i < argLists.length; i += 2)
    results.push(...(await Promise.all(argLists.slice(i, i + 2).map((a) => cli(a)))));
  return results;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "reco-cli-"));
  // Popularity on this pair is computed by hand in the evaluate test below.
  await writeFile(file("train.csv"), "userId,itemId\nu1,a\nu1,b\nu2,a\nu2,c\nu3,a\nu3,b\nu3,d\n");
  await writeFile(file("test.csv"), "u1,c\nu2,d\nu2,x\nu4,a\n");
  await writeFile(file("malformed.csv"), "u1,a,5\nu1,b,4\nu2,,3\nu2,a,abc\nu3,b,2\n");
  await writeFile(file("header-only.csv"), "userId,itemId,rating\n");
  // Ratings near float32's limit overflow iALS' confidence (1 + alpha·rating) to Infinity → NaN factors.
  await writeFile(
    file("overflow.csv"),
    "u1,a,3e38\nu1,b,1\nu2,a,1\nu2,c,3e38\nu3,b,1\nu3,c,1\nu3,d,3e38\n",
  );
  const rows = ["userId,itemId,rating,timestamp"];
  for (let u = 0; u < 40; u++)
    for (let i = 0; i < 12; i++)
      rows.push(
        `u${u},i${(u * 7 + i * 3) % 30},${1 + ((u + i) % 5)},${1_500_000_000 + u * 100 + i}`,
      );
  await writeFile(file("small.csv"), rows.join("\n") + "\n");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// Child processes on a shared 2-core machine: start-up and PGlite migrations can take tens of seconds.
describe("npm run train -- <command>", { timeout: 240_000 }, () => {
  it("prints --help for every command and lists the commands", async () => {
    const runs = await cliAll(
      ["train", "evaluate", "tune", "export", "list"].map((c) => [c, "--help"]),
    );
    runs.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        `Usage: npm run train -- ${["train", "evaluate", "tune", "export", "list"][i]}`,
      );
    });
    expect(runs[0]!.stdout).toMatch(/--factors \(\d+; 1–1024\) latent dimensions/);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("Commands:");
  });

  it("evaluate on a user-supplied train/test pair: hand-computed popularity metrics under both protocols, unseen ids reported", async () => {
    const pair = [
      "--train",
      file("train.csv"),
      "--test",
      file("test.csv"),
      "--model",
      "popularity",
    ];
    const [field, dropped] = await cliAll([
      ["evaluate", ...pair, "--k", "10", "--json"],
      ["evaluate", ...pair, "--k", "10", "--json", "--drop-unrankable-test-items"],
    ]);
    expect(field!.code).toBe(0);
    expect(dropped!.code).toBe(0);
    // counts a=3 b=2 c=1 d=1; u1 (saw a,b) gets [c,d]: test c at rank 1; u2 (saw a,c) gets [b,d]:
    // test d at rank 2, and x (never in train) is u2's second test item. u4 is an unseen user.
    const f = JSON.parse(field!.stdout);
    expect(f.evaluationProtocol).toBe("field");
    const fm = f.results[0].evaluation.metrics["10"];
    expect(f.results[0].evaluation.users).toBe(2);
    expect(f.results[0].evaluation.unrankableTestItems).toBe(1);
    // Field: u2's |T| = 2 → recall 1/2; NDCG (1/log2 3) / (1 + 1/log2 3).
    const idcg2 = 1 + 1 / Math.log2(3);
    expect(fm.recall).toBe((1 + 0.5) / 2);
    expect(fm.ndcg).toBeCloseTo((1 + 1 / Math.log2(3) / idcg2) / 2, 10);
    expect(fm.hit_rate).toBe(1);
    // Dropping x: u2's |T| = 1 → recall 1, NDCG 1/log2 3.
    const d = JSON.parse(dropped!.stdout);
    expect(d.evaluationProtocol).toBe("drop-unrankable");
    const dm = d.results[0].evaluation.metrics["10"];
    expect(d.results[0].evaluation.users).toBe(2);
    expect(dm.ndcg).toBeCloseTo((1 + 1 / Math.log2(3)) / 2, 10);
    expect(dm.recall).toBe(1);
    expect(f.protocol).toMatchObject({
      split: "explicit",
      unseenUsers: 1,
      unseenItems: 1,
      droppedEvents: 2,
    });
    const table = await cli(["evaluate", ...pair]);
    expect(table.code).toBe(0);
    expect(table.stderr).toContain(
      "test set: 1 users and 1 items unseen in train; 2 test events cannot be ranked (1 of them, of users known in train, count as misses (field protocol)",
    );
    expect(table.stdout).toContain(
      "field protocol: test items never seen in train count as misses",
    );
    // (1 + 0.63093 / 1.63093) / 2 = 0.69343
    expect(table.stdout).toMatch(/ndcg\s*│\s*0\.6934/);
  });

  it("stops on malformed rows with their line numbers unless --skip-malformed", async () => {
    const [strict, lenient] = await Promise.all([
      cli(["evaluate", "--data", file("malformed.csv"), "--model", "popularity"]),
      cli([
        "evaluate",
        "--data",
        file("malformed.csv"),
        "--model",
        "popularity",
        "--skip-malformed",
        "--json",
      ]),
    ]);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim().split("\n")).toHaveLength(1);
    expect(strict.stderr).toContain("malformed.csv: 2 malformed rows");
    expect(strict.stderr).toContain("malformed.csv:3: empty itemId");
    expect(strict.stderr).toContain('malformed.csv:4: rating "abc" is not a number');
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout).notes[0]).toBe(
      `skipped 2 malformed rows of ${file("malformed.csv")}`,
    );
  });

  it("refuses missing files, empty train sets, unknown kinds, parameters and options with one line and exit 2", async () => {
    const runs = await cliAll([
      ["evaluate", "--data", file("nope.csv"), "--model", "popularity"],
      ["evaluate", "--data", file("header-only.csv"), "--model", "popularity"],
      ["evaluate", "--data", file("small.csv"), "--model", "popularity", "--threshold", "10"],
      ["train", "--data", file("small.csv"), "--model", "svd"],
      ["train", "--data", file("small.csv"), "--model", "ials", "--factorz", "8"],
      ["train", "--data", file("small.csv"), "--model", "ials", "--factors", "0"],
      ["list", "--bogus"],
      ["evaluate", "--data", file("small.csv"), "--model", "popularity", "--split", "sideways"],
      ["frobnicate"],
    ]);
    const expected = [
      /cannot read interactions file .*nope\.csv: ENOENT/,
      /header-only\.csv holds no valid interaction rows/,
      /the train set is empty \(no rating reaches --threshold 10\)/,
      /unknown model kind "svd"; known kinds: popularity, trending, item-knn, rp3beta, ials/,
      /hyper-parameter "factorz" is unknown \(known: factors, epochs, /,
      /hyper-parameter "factors" must be in \[1, 1024\], got 0/,
      /list: Unknown option '--bogus' \(valid options: --name, --registry, --json, --help\)/,
      /evaluate: --split: Invalid option: expected one of "random"\|"temporal"\|"last-n"\|"none"/,
      /unknown command "frobnicate"; valid commands: train, evaluate, tune, export, list/,
    ];
    runs.forEach((r, i) => {
      expect(r.stderr).toMatch(expected[i]!);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.code).toBe(2);
    });
    expect(await readdir(path.join(work, "data", "registry")).catch(() => [])).toEqual([]);
  });

  it("a training run that diverges to NaN is marked failed in the database and publishes nothing", async () => {
    const dataDir = file("nan-data");
    const r = await cli(
      [
        "train",
        "--model",
        "ials",
        "--data",
        file("overflow.csv"),
        "--confidence",
        "rating",
        "--alpha",
        "10",
        "--regularization",
        "0.1",
        "--factors",
        "4",
        "--epochs",
        "3",
        "--split",
        "none",
      ],
      dataDir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: ials training diverged at epoch \d: .*NaN/);
    expect(await readdir(path.join(dataDir, "registry", "ials")).catch(() => [])).toEqual([]);
    const db = await openDatabase({ dataDir });
    try {
      const runs = await db.prisma.trainingRun.findMany();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: "failed", modelName: "ials", modelVersionId: null });
      expect(runs[0]!.error).toMatch(/diverged/);
      expect(await db.prisma.modelVersion.count()).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("train publishes a candidate version with DB rows; list, export, and corruption refused on export", async () => {
    const dataDir = file("ok-data");
    const r = await cli(
      [
        "train",
        "--model",
        "item-knn",
        "--data",
        file("small.csv"),
        "--neighbours",
        "10",
        "--name",
        "small-knn",
      ],
      dataDir,
    );
    expect(r.stderr).toContain("published small-knn v1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ndcg\s*│/);
    const versionDir = path.join(dataDir, "registry", "small-knn", "v1");
    const metadata = JSON.parse(await readFile(path.join(versionDir, "metadata.json"), "utf8"));
    expect(metadata).toMatchObject({
      kind: "item-item",
      algorithm: "item-knn",
      hyperparameters: { neighbours: 10 },
    });
    expect(metadata.metrics["ndcg@10"]).toBeGreaterThan(0);
    expect(metadata.evaluation).toMatchObject({ evaluationProtocol: "field" });
    expect(r.stdout).toContain("field protocol: test items never seen in train count as misses");

    const db = await openDatabase({ dataDir });
    try {
      const version = await db.prisma.modelVersion.findFirstOrThrow({
        where: { name: "small-knn" },
      });
      expect(version).toMatchObject({
        version: "v1",
        stage: "candidate",
        checksum: metadata.files["model.onnx"].sha256,
      });
      const run = await db.prisma.trainingRun.findFirstOrThrow({
        where: { modelVersionId: version.id },
      });
      expect(run.status).toBe("succeeded");
      expect(Object.keys(run.timings as object)).toEqual(
        expect.arrayContaining(["loadMs", "fitMs", "evaluateMs", "exportMs"]),
      );
    } finally {
      await db.close();
    }

    const [list, exported] = await Promise.all([
      cli(["list", "--json"], dataDir),
      cli(["export", "--name", "small-knn", "--version", "v1", "--out", file("shipped")], dataDir),
    ]);
    expect(JSON.parse(list.stdout).map((v: { version: string }) => v.version)).toEqual(["v1"]);
    expect(exported.code).toBe(0);
    expect((await readdir(file("shipped"))).sort()).toEqual([
      "MODEL_CARD.md",
      "id-maps.json",
      "metadata.json",
      "model.onnx",
      "train-history.bin",
    ]);

    const onnx = path.join(versionDir, "model.onnx");
    const bytes = await readFile(onnx);
    bytes[100]! ^= 0x01;
    await writeFile(onnx, bytes);
    const refused = await cli(
      ["export", "--name", "small-knn", "--version", "v1", "--out", file("shipped-2")],
      dataDir,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: artifact .* is corrupt: model\.onnx sha256/);
    expect(await readdir(work)).not.toContain("shipped-2");
  });

  it("train evaluates on the split, then publishes factors refit on every interaction (--fit-on train keeps the split's side)", async () => {
    const base = ["train", "--model", "ials", "--data", file("small.csv"), "--factors", "4"];
    const [all, trainSide, unsplit] = await cliAll([
      [...base, "--name", "all", "--no-db", "--json"],
      [...base, "--name", "train-side", "--fit-on", "train", "--no-db", "--json"],
      [...base, "--name", "unsplit", "--split", "none", "--no-db", "--json"],
    ]);
    for (const r of [all!, trainSide!, unsplit!]) expect(r.code, r.stderr).toBe(0);
    const meta = async (name: string) =>
      JSON.parse(
        await readFile(path.join(work, "data", "registry", name, "v1", "metadata.json"), "utf8"),
      );
    const card = (name: string) =>
      readFile(path.join(work, "data", "registry", name, "v1", "MODEL_CARD.md"), "utf8");
    // distinct (user, item) pairs of the file, counted here rather than by the code under test
    const lines = (await readFile(file("small.csv"), "utf8")).trim().split("\n").slice(1);
    const pairs = new Set(lines.map((line) => line.split(",").slice(0, 2).join(","))).size;

    const served = await meta("all");
    expect(served.fittedOn).toBe("all");
    expect(served.data.nInteractions).toBe(pairs);
    expect(served.evaluation.trainInteractions).toBeLessThan(pairs);
    expect(served.metrics["ndcg@10"]).toBeGreaterThan(0);
    // same seed and parameters on all the data: the very factors of a run without a split
    const none = await meta("unsplit");
    expect(none.data.nInteractions).toBe(pairs);
    expect(served.files["model.onnx"].sha256).toBe(none.files["model.onnx"].sha256);
    expect(served.files["train-history.bin"].sha256).toBe(none.files["train-history.bin"].sha256);
    expect(await card("all")).toContain(`Fitted on all ${pairs} interactions`);
    expect(await card("all")).toContain(
      `a copy fitted on ${served.evaluation.trainInteractions} train interactions`,
    );
    expect(all!.stderr).toContain(`refitting ials on all ${pairs} interactions`);
    expect(await card("all")).toContain(
      "Field protocol: test items never seen in train count as misses",
    );

    const old = await meta("train-side");
    expect(old.fittedOn).toBe("train");
    expect(old.data.nInteractions).toBe(served.evaluation.trainInteractions);
    expect(old.metrics).toEqual(served.metrics);
    expect(old.files["model.onnx"].sha256).not.toBe(served.files["model.onnx"].sha256);
    expect(await card("train-side")).toContain(
      "Fitted on the train side of the evaluation split only",
    );
  });

  it("tune prints every trial and the best parameters", async () => {
    const r = await cli([
      "tune",
      "--model",
      "item-knn",
      "--data",
      file("small.csv"),
      "--trials",
      "3",
      "--split",
      "none",
    ]);
    expect(r.code).toBe(0);
    // successive halving: 3 candidates, the best one again at full budget
    expect(r.stdout).toMatch(
      /best: item-knn, validation recall@20 \d\.\d{4} \(4 trials, [\d.]+ s\): --model item-knn --neighbours \d+/,
    );
    expect(r.stderr).toMatch(/\[4\/4\] item-knn (defaults|#\d) rung 1/);
    expect(r.stdout).toContain("field protocol: test items never seen in train count as misses");
  });
});
