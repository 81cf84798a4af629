"use client";

import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@reco/api-router";
import {
  formatCount,
  formatInterval,
  formatPValue,
  formatPct,
  formatSignedPct,
} from "../format.ts";
import dynamic from "next/dynamic";

// recharts is large: the chart loads after the page (the route's first-load JS stays in budget)
const UpliftChart = dynamic(() => import("./UpliftChart.tsx").then((m) => m.UpliftChart), {
  ssr: false,
});

type Results = inferRouterOutputs<AppRouter>["experiments"]["results"];

/** Verdict, sample-ratio check and per-metric uplift with intervals, as a product manager reads them. */
export function ResultsView({ results }: { results: Results }) {
  return (
    <div data-testid="results">
      <p className={`verdict verdict-${results.outcome}`} data-testid="verdict">
        {results.verdict}
      </p>
      {results.srm.mismatch ? (
        <p className="warning" role="alert" data-testid="srm-warning">
          Sample ratio mismatch: {results.srm.verdict} Do not trust these results until the
          assignment is fixed.
        </p>
      ) : null}
      <table className="table">
        <thead>
          <tr>
            <th>Variant</th>
            <th>Users</th>
            <th>Expected share</th>
          </tr>
        </thead>
        <tbody>
          {results.variants.map((variant) => (
            <tr key={variant.name}>
              <td>
                {variant.name}
                {variant.isControl ? " (control)" : ""}
              </td>
              <td>{formatCount(variant.users)}</td>
              <td>{formatPct(variant.expectedShare)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {results.metrics.map((metric) => {
        const treated = metric.variants.filter((variant) => variant.comparison);
        const intervalOf = (comparison: NonNullable<(typeof treated)[number]["comparison"]>) =>
          results.mode === "sequential" ? comparison.sequentialCi : comparison.ci;
        return (
          <div key={metric.metric} className="card metric">
            <h3>
              {metric.label} <span className="muted">({metric.role})</span>
            </h3>
            <table className="table">
              <thead>
                <tr>
                  <th>Variant</th>
                  <th>n</th>
                  <th>Mean</th>
                  <th>Uplift</th>
                  <th>
                    {results.mode === "sequential" ? "Always-valid interval" : "95 % interval"}
                  </th>
                  <th>p (Holm)</th>
                  <th>Chance to win</th>
                  <th>Verdict</th>
                </tr>
              </thead>
              <tbody>
                {metric.variants.map((variant) => (
                  <tr key={variant.variant}>
                    <td>{variant.variant}</td>
                    <td>{formatCount(variant.n)}</td>
                    <td>
                      {variant.mean === null
                        ? "–"
                        : metric.kind === "proportion"
                          ? formatPct(variant.mean, 2)
                          : variant.mean.toFixed(3)}
                    </td>
                    <td>
                      {variant.comparison ? formatSignedPct(variant.comparison.uplift) : "control"}
                    </td>
                    <td>
                      {variant.comparison ? formatInterval(intervalOf(variant.comparison)) : ""}
                    </td>
                    <td>
                      {variant.comparison
                        ? formatPValue(variant.comparison.adjustedPValue.holm)
                        : ""}
                    </td>
                    <td>{variant.comparison ? formatPct(variant.comparison.chanceToWin) : ""}</td>
                    <td>{variant.verdict}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {treated.length ? (
              <UpliftChart
                points={treated.map((variant) => ({
                  variant: variant.variant,
                  uplift: variant.comparison!.uplift,
                  ci: intervalOf(variant.comparison!),
                }))}
              />
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
