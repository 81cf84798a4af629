/**
 * `tune` and `train --tune` run as child processes: the search never depends on the test side,
 * the winner is fitted and published, and bad input fails with one line and exit 2.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The registry under DATA_DIR: the bucket that `npm test` exports for the S3 suites is not this suite's. */
const localEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("S3_")),
);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = "packages/ml/src/cli/main.ts";
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", MAIN, ...args],
      {
        cwd: repo,
        env: { ...localEnv, DATA_DIR: path.join(work, "data"), DATABASE_URL: "" },
        timeout: 180_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const file = (name: string) => path.join(work, name);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "reco-tune-"));
  // 60 users in 3 taste groups of 15 items; train holds items 0–9 of the group (shifted per user)
  // and two of the next group, the honest test the next 3, the poisoned test items of another group plus unseen ones.
  const train = ["userId,itemId"];
  const honest: string[] = [];
  const poisoned: string[] = [];
  for (let u = 0; u < 60; u++) {
    const group = u % 3;
    const item = (k: number) => `i${group * 15 + ((u + k) % 15)}`;
    for (let k = 0; k < 10; k++) train.push(`u${u},${item(k)}`);
    // and two of the next group, so the candidates score apart
    for (const k of [5, 10]) train.push(`u${u},i${((group + 1) % 3) * 15 + ((u + k) % 15)}`);
    for (let k = 10; k < 13; k++) honest.push(`u${u},${item(k)}`);
    poisoned.push(`u${u},i${((group + 1) % 3) * 15 + (u % 15)}`, `u${u},never-seen-${u}`);
  }
  await writeFile(file("train.csv"), train.join("\n") + "\n");
  await writeFile(file("honest.csv"), honest.join("\n") + "\n");
  await writeFile(file("poisoned.csv"), poisoned.join("\n") + "\n");
  // 40 users × 12 distinct items: the default split holds out round(12·0.2) = 2 per user
  const rows = ["userId,itemId,rating"];
  for (let u = 0; u < 40; u++)
    for (let i = 0; i < 12; i++) rows.push(`u${u},i${(u * 7 + i) % 30},${1 + ((u + i) % 5)}`);
  await writeFile(file("small.csv"), rows.join("\n") + "\n");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface TuneJson {
  best: { kind: string; params: Record<string, number> };
  trials: { kind: string; params: Record<string, number>; score: number; rung: number }[];
  validation: { trainEvents: number; validationEvents: number };
}

describe("tuning from the command line", { timeout: 300_000 }, () => {
  it("the search is the same whatever the test file holds; train --tune evaluates the winner on it", async () => {
    const search = ["--model", "item-knn,rp3beta", "--trials", "3", "--train", file("train.csv")];
    const [honest, poisoned] = await Promise.all([
      cli(["tune", ...search, "--test", file("honest.csv"), "--json"]),
      cli(["tune", ...search, "--test", file("poisoned.csv"), "--json"]),
    ]);
    expect(honest.code, honest.stderr).toBe(0);
    expect(poisoned.code, poisoned.stderr).toBe(0);
    const a = JSON.parse(honest.stdout) as TuneJson;
    const b = JSON.parse(poisoned.stdout) as TuneJson;
    const scores = (result: TuneJson) =>
      result.trials.map(({ kind, params, score, rung }) => ({ kind, params, score, rung }));
    expect(scores(b)).toEqual(scores(a));
    // 720 train events, 12 distinct items per user, of which round(12·0.2) = 2 validate
    expect(a.validation).toMatchObject({ trainEvents: 600, validationEvents: 120 });
    // per-trial progress on stderr: 3 + 1 trials per kind
    expect(honest.stderr).toMatch(/\[1\/8\] item-knn defaults rung 0 \(\d+ users\): \d\.\d{4}/);
    expect(honest.stderr).toMatch(/\[8\/8\] rp3beta (defaults|#\d) rung 1/);

    const trained = await Promise.all(
      ["honest.csv", "poisoned.csv"].map((test) =>
        cli([
          "train",
          "--tune",
          ...search,
          "--test",
          file(test),
          "--no-db",
          "--json",
          "--name",
          `tuned-${test}`,
        ]),
      ),
    );
    for (const run of trained) expect(run.code, run.stderr).toBe(0);
    const [x, y] = trained.map(
      (run) =>
        JSON.parse(run.stdout) as {
          kind: string;
          params: Record<string, number>;
          metrics: Record<string, number>;
          tuned: { trials: number };
        },
    );
    expect(x!.kind).toBe(a.best.kind);
    expect(x!.params).toEqual(a.best.params);
    expect(y!.params).toEqual(x!.params);
    expect(x!.tuned.trials).toBe(8);
    // the test files differ, and so do the held-out metrics of the one tuned model
    expect(x!.metrics["recall@20"]).not.toBe(y!.metrics["recall@20"]);
  });

  it("with --data, only the split's train side is searched, the defaults' table is printed", async () => {
    const r = await cli([
      "tune",
      "--model",
      "item-knn",
      "--data",
      file("small.csv"),
      "--trials",
      "3",
    ]);
    expect(r.code, r.stderr).toBe(0);
    // 40 users × 12 items: 2 per user held out for test, then 2 of the remaining 10 for validation
    expect(r.stdout).toContain("validation: 80 events of 40 users carved from 400 train events");
    expect(r.stdout).toMatch(/\| item-knn +\| +\d\.\d{4} \| +3 \| +4 \|/);
    expect(r.stdout).toMatch(
      /best: item-knn, validation recall@20 \d\.\d{4} \(4 trials, [\d.]+ s\): --model item-knn --neighbours \d+/,
    );
    expect(r.stdout).toContain("field protocol");
  });

  it("refuses zero trials, unknown kinds and unknown fixed parameters with one line and exit 2", async () => {
    const data = ["--data", file("small.csv")];
    const runs = await Promise.all([
      cli(["tune", "--model", "item-knn", "--trials", "0", ...data]),
      cli(["train", "--tune", "--model", "item-knn,bogus", ...data, "--no-db"]),
      cli(["train", "--tune", "--model", "all", "--wobble", "3", ...data, "--no-db"]),
      cli(["train", "--tune", "--model", "ials", "--factors", "many", ...data, "--no-db"]),
      cli(["train", ...data, "--no-db"]),
    ]);
    const expected = [
      /trials/,
      /bogus/,
      /unknown fixed parameter "wobble": no tuned model kind declares it/,
      /"factors" must be a number, got "many"/,
      /--model is required \(e\.g\. --model ials\), or --tune/,
    ];
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(expected[i]!);
    });
  });
});
