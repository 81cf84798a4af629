/**
 * The published citeulike-t figures through the CLI (`npm run train -- evaluate`, run as a child
 * process) on ../shared/datasets/citeulike-t. Expected values come from outside this code:
 * TopPop from scripts/citeulike-reference/toppop.py (pure Python; ties by ascending item id,
 * which gives the data set README's 0.03024), P3alpha from the README's reference table (0.1321;
 * the 4th decimal moves with how ties among equal scores are broken, see
 * scripts/citeulike-reference/p3alpha.py, so it is checked to 5e-4).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const DATASET = path.resolve(repo, "../shared/datasets/citeulike-t");

interface Result {
  model: string;
  metrics: Record<string, number>;
  evaluation: { users: number; unrankableTestItems: number; protocol: string };
}

function evaluate(args: string[], dataset = DATASET): Promise<Result[]> {
  if (!existsSync(path.join(dataset, "train.csv"))) {
    throw new Error(`citeulike-t is missing: expected ${dataset}/train.csv and test.csv`);
  }
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--import",
        "tsx",
        "packages/ml/src/cli/main.ts",
        "evaluate",
        "--train",
        path.join(dataset, "train.csv"),
        "--test",
        path.join(dataset, "test.csv"),
        "--k",
        "20",
        "--json",
        ...args,
      ],
      { cwd: repo, timeout: 120_000, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`evaluate failed: ${stderr}`));
        else resolve((JSON.parse(stdout) as { results: Result[] }).results);
      },
    );
  });
}

describe("citeulike-t: the reference figures", () => {
  it("field protocol: TopPop REC@20 0.0302, P3alpha (α 1, top-200 per column, rows normalised) ≈ 0.1321", async () => {
    const [popularity, p3alpha] = await evaluate([
      "--model",
      "popularity,p3alpha",
      "--alpha",
      "1",
      "--neighbours",
      "200",
      "--prune",
      "column",
      "--normalize",
      "on",
    ]);
    expect(popularity!.evaluation).toMatchObject({
      protocol: "field",
      users: 2598,
      unrankableTestItems: 17954,
    });
    expect(popularity!.metrics["recall@20"]!).toBeCloseTo(0.030238, 6);
    expect(popularity!.metrics["recall@20"]!.toFixed(4)).toBe("0.0302");
    expect(p3alpha!.model).toBe("p3alpha");
    expect(Math.abs(p3alpha!.metrics["recall@20"]! - 0.1321)).toBeLessThan(5e-4);
  });

  it("--drop-unrankable-test-items: TopPop REC@20 0.033819 over the 2555 users left", async () => {
    const [popularity] = await evaluate(["--model", "popularity", "--drop-unrankable-test-items"]);
    expect(popularity!.evaluation).toMatchObject({ protocol: "drop-unrankable", users: 2555 });
    expect(popularity!.metrics["recall@20"]!).toBeCloseTo(0.033819, 6);
  });

  // The "today's 0.0337" was measured when items were numbered as the loader met them, so
  // ties in popularity fell in first-appearance order. Renumbering the items that way reproduces it:
  // the reference script's "first appearance" rows (0.030146 field, 0.033690 dropped). No single
  // tie order gives both 0.0302 and 0.0337 (they hinge on the same tie at rank 20).
  it("items numbered by first appearance in train.csv: TopPop 0.0337 dropped, 0.0301 field", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "citeulike-first-seen-"));
    try {
      const numbers = new Map<string, number>();
      const renumber = (file: string) => {
        const [header, ...rows] = readFileSync(path.join(DATASET, file), "utf8").trim().split("\n");
        const out = rows.map((row) => {
          const [user, item] = row.split(",");
          if (!numbers.has(item!)) numbers.set(item!, numbers.size + 1);
          return `${user},${numbers.get(item!)}`;
        });
        writeFileSync(path.join(dir, file), [header, ...out].join("\n") + "\n");
      };
      renumber("train.csv");
      renumber("test.csv");
      const [dropped] = await evaluate(
        ["--model", "popularity", "--drop-unrankable-test-items"],
        dir,
      );
      expect(dropped!.metrics["recall@20"]!).toBeCloseTo(0.03369, 5);
      expect(dropped!.metrics["recall@20"]!.toFixed(4)).toBe("0.0337");
      const [field] = await evaluate(["--model", "popularity"], dir);
      expect(field!.metrics["recall@20"]!).toBeCloseTo(0.030146, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
