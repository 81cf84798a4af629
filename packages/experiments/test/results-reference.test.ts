import { describe, expect, it } from "vitest";
import {
  computeResults,
  parseExperimentDefinition,
  proportionStats,
  type MetricKey,
} from "../src/index.ts";
import { sampleDefinition } from "../src/test-definitions.ts";
import { expectAllClose, expectClose, loadFixture } from "./reference.ts";

/**
 * Whole experiments near the decision boundary, a primary metric plus guardrails, in both modes.
 * Every number comes from scripts/stats-reference/generate.py (`results`): the uplift from
 * statsmodels' generic delta method, Holm and Benjamini–Hochberg from statsmodels' multipletests
 * over the whole (treatment × metric) family, the always-valid interval from the numerically solved
 * mixture boundary at α / (comparisons), and the decisions from the documented rule applied to those.
 */
interface Case {
  name: string;
  mode: "fixed" | "sequential";
  alpha: number;
  minSampleSize: number;
  guardrailMetrics: MetricKey[];
  variants: { name: string; users: number; conversions: Partial<Record<MetricKey, number>> }[];
  expected: {
    comparisons: {
      metric: MetricKey;
      variant: string;
      uplift: number;
      ci: [number, number];
      pValue: number;
      holm: number;
      benjaminiHochberg: number;
      sequentialCi: [number, number];
      significant: boolean;
      outcome: string;
      rawPBelowAlpha: boolean;
      sequentialCiAtAlphaExcludesZero: boolean;
    }[];
    outcome: string;
    winner: string | null;
  };
}

const cases = loadFixture<Case>("results");

function run(c: Case) {
  const weight = 100 / c.variants.length;
  const def = parseExperimentDefinition(
    sampleDefinition({
      status: "running",
      minSampleSize: c.minSampleSize,
      guardrailMetrics: c.guardrailMetrics,
      variants: c.variants.map((v, i) => ({
        name: v.name,
        // weights that sum to 100 exactly (33.33 + 33.33 + 33.34)
        weight:
          i === c.variants.length - 1
            ? 100 - ((c.variants.length - 1) * Math.floor(weight * 100)) / 100
            : Math.floor(weight * 100) / 100,
        isControl: i === 0,
        ...(i === 0 ? { strategy: "popularity" } : { modelVersionId: i }),
      })),
    }),
  );
  const stats = Object.fromEntries(
    c.variants.map((v) => [
      v.name,
      {
        users: v.users,
        metrics: Object.fromEntries(
          Object.entries(v.conversions).map(([metric, k]) => [metric, proportionStats(v.users, k)]),
        ),
      },
    ]),
  );
  return computeResults(def, stats, { mode: c.mode, alpha: c.alpha });
}

describe("experiment decisions match statsmodels and the numerical sequential boundary", () => {
  it.each(cases)("$name", (c) => {
    const r = run(c);
    for (const e of c.expected.comparisons) {
      const label = `${e.metric} ${e.variant}`;
      const row = r.metrics
        .find((m) => m.metric === e.metric)!
        .variants.find((v) => v.variant === e.variant)!;
      const got = row.comparison!;
      expectClose(got.uplift, e.uplift, `${label} uplift`);
      expectAllClose(got.ci, e.ci, `${label} ci`);
      expectClose(got.pValue, e.pValue, `${label} pValue`);
      expectClose(got.adjustedPValue.holm, e.holm, `${label} Holm`);
      expectClose(got.adjustedPValue.benjaminiHochberg, e.benjaminiHochberg, `${label} BH`);
      expectAllClose(got.sequentialCi, e.sequentialCi, `${label} sequentialCi`);
      expect(got.significant, `${label} significant`).toBe(e.significant);
      expect(got.outcome, `${label} outcome`).toBe(e.outcome);
    }
    expect(r.outcome).toBe(c.expected.outcome);
    expect(r.winner).toBe(c.expected.winner);
  });

  it("the fixture holds the boundaries the decisions are about", () => {
    const byName = (prefix: string) => cases.find((c) => c.name.startsWith(prefix))!;
    // fixed mode: a raw p below α that the Holm adjustment lifts above it …
    const holm = byName("fixed: raw p < 0.05").expected.comparisons[0]!;
    expect(holm.rawPBelowAlpha && holm.holm > 0.05 && !holm.significant).toBe(true);
    // … and sequential mode: an interval that excludes 0 at α but not at α / 2.
    const seq = byName("sequential: interval at alpha excludes 0").expected.comparisons[0]!;
    expect(seq.sequentialCiAtAlphaExcludesZero && !seq.significant).toBe(true);
    expect(seq.sequentialCi[0]).toBeLessThan(0);
  });
});
