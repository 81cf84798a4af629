import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../data/random.ts";
import { compareModels, formatComparison } from "./compare.ts";

describe("compareModels", () => {
  it("trains each kind on one seeded split and reports the lift over popularity", async () => {
    const random = seededRandom(9);
    const lines = ["userId,movieId,rating,timestamp"];
    for (let u = 0; u < 90; u++) {
      const picked = new Set<number>();
      while (picked.size < 12) picked.add((u % 3) * 15 + random.int(15));
      for (const item of picked) lines.push(`${u},${item},4,${1000 + u}`);
    }
    const file = path.join(await mkdtemp(path.join(tmpdir(), "ml-compare-")), "ratings.csv");
    await writeFile(file, lines.join("\n"));
    const comparison = await compareModels({
      ratingsPath: file,
      kinds: ["popularity", "item-knn"],
      ks: [5],
    });
    expect(comparison.rows.map((row) => row.kind)).toEqual(["popularity", "item-knn"]);
    expect(comparison.split.trainEvents + comparison.split.testEvents).toBe(90 * 12);
    const [popularity, knn] = comparison.rows.map((row) => row.evaluation.metrics["5"]!);
    expect(comparison.liftOverPopularity.best).toBe("item-knn");
    expect(comparison.liftOverPopularity.ratio).toBeCloseTo(knn!.ndcg / popularity!.ndcg, 12);
    // Three disjoint taste groups: neighbours beat global popularity.
    expect(knn!.ndcg).toBeGreaterThan(popularity!.ndcg);
    const report = formatComparison(comparison);
    expect(report).toContain("K = 5");
    expect(report).toMatch(/best personalised model by NDCG@5: item-knn/);
  });
});
