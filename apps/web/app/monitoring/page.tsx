"use client";

import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useState } from "react";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { formatCount, formatPct } from "../../src/format.ts";
import { useTRPC } from "../../src/trpc.tsx";

// The charts (recharts, ~100 kB gzip) load after the page, so its first load stays within budget.
const chartPlaceholder = (height: number) =>
  function ChartLoading() {
    return (
      <div style={{ height }} className="muted" aria-busy="true">
        Loading chart…
      </div>
    );
  };
const VersionsChart = dynamic(
  () => import("../../src/components/MonitoringCharts.tsx").then((m) => m.VersionsChart),
  { ssr: false, loading: chartPlaceholder(260) },
);
const LatencyChart = dynamic(
  () => import("../../src/components/MonitoringCharts.tsx").then((m) => m.LatencyChart),
  { ssr: false, loading: chartPlaceholder(220) },
);

const WINDOWS = [
  [15, "15 minutes"],
  [60, "1 hour"],
  [360, "6 hours"],
  [1440, "24 hours"],
  [10_080, "7 days"],
] as const;
const REFRESH_MS = 10_000;

const ms = (value: number | null) => (value === null ? "–" : `${value.toFixed(1)} ms`);

export default function MonitoringPage() {
  const trpc = useTRPC();
  const [minutes, setMinutes] = useState<number>(60);
  const [live, setLive] = useState(true);
  const series = useQuery({
    ...trpc.monitoring.series.queryOptions({ minutes }),
    refetchInterval: live ? REFRESH_MS : false,
  });
  const data = series.data;
  const empty = data !== undefined && data.byModelVersion.length === 0;
  const versions = data?.byModelVersion.map((s) => ({ label: s.versionLabel, points: s.points }));
  // Beyond a day the api answers hourly points.
  const per = (data?.bucketMinutes ?? 1) > 1 ? "hour" : "min";
  const withDate = minutes > 1440;

  return (
    <section>
      <div className="row">
        <h1>Monitoring</h1>
        <label>
          Window{" "}
          <select
            aria-label="window"
            value={minutes}
            onChange={(e) => setMinutes(Number(e.target.value))}
          >
            {WINDOWS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={live}
            onChange={(e) => setLive(e.target.checked)}
            data-testid="monitoring-live"
          />{" "}
          Live (every {REFRESH_MS / 1000} s)
        </label>
        <span className="muted" data-testid="monitoring-updated" aria-live="polite">
          {series.dataUpdatedAt
            ? `updated ${new Date(series.dataUpdatedAt).toLocaleTimeString("en-GB")}`
            : null}
          {series.isFetching && !series.isPending ? " · refreshing…" : null}
        </span>
      </div>
      <ErrorNote error={series.error} action="Could not load monitoring data" />
      {series.isPending ? <p>Loading…</p> : null}
      {empty ? (
        <p className="warning" data-testid="monitoring-empty">
          No traffic recorded in this window. The stream worker writes per-minute aggregates of
          served recommendations and feedback; they appear here once it has processed some.
        </p>
      ) : null}
      {data && !empty ? (
        <>
          <div className="cards" data-testid="monitoring-totals">
            {(
              [
                ["Requests", formatCount(data.totals.impressions)],
                ["Click-through", formatPct(data.totals.ctr, 2)],
                ["Errors", formatPct(data.totals.errorRate, 2)],
                ["Fallbacks", formatPct(data.totals.fallbackRate, 2)],
                ["Worst-minute p99", ms(data.totals.worstMinuteP99Ms)],
              ] as const
            ).map(([label, value]) => (
              <div className="card" key={label}>
                <div className="value">{value}</div>
                <div className="label">{label}</div>
              </div>
            ))}
          </div>
          <h2>Requests per {per === "hour" ? "hour" : "minute"}</h2>
          <p className="muted">
            The latest minute fills in as the stream worker catches up (it aggregates 30 s batches).
          </p>
          <VersionsChart
            series={versions!}
            figure="impressions"
            unit=" req"
            axisLabel={`requests / ${per}`}
            withDate={withDate}
            testId="chart-requests"
          />
          <h2>Click-through per {per === "hour" ? "hour" : "minute"}</h2>
          <VersionsChart
            series={versions!}
            figure="ctr"
            unit=" %"
            axisLabel="click-through (%)"
            withDate={withDate}
            scale={100}
            testId="chart-ctr"
          />
          <h2>Latency per model version</h2>
          <p className="muted">
            Percentiles of several rows (experiment variants of one minute, the minutes of a point
            or of the window) come from their latency histograms added up, to within a bucket&apos;s
            19 %; minutes from before histograms were kept are merged as an impression-weighted
            mean.
          </p>
          {data.byModelVersion.map((s) => (
            <div key={s.versionLabel}>
              <h3>
                <code>{s.versionLabel || "(unlabelled)"}</code> — p99 {ms(s.totals.latencyP99Ms)}
              </h3>
              <LatencyChart
                points={s.points}
                withDate={withDate}
                testId={`chart-latency-${s.versionLabel}`}
              />
            </div>
          ))}
          {data.byVariant.length > 0 ? (
            <>
              <h2>Experiment variants</h2>
              <table className="table">
                <thead>
                  <tr>
                    <th>Experiment</th>
                    <th>Variant</th>
                    <th>Requests</th>
                    <th>Clicks</th>
                    <th>CTR</th>
                    <th>Errors</th>
                    <th>Fallbacks</th>
                    <th>p95</th>
                  </tr>
                </thead>
                <tbody>
                  {data.byVariant.map((v) => (
                    <tr key={`${v.experimentKey}/${v.variant}`}>
                      <td>{v.experimentKey}</td>
                      <td>{v.variant}</td>
                      <td>{formatCount(v.totals.impressions)}</td>
                      <td>{formatCount(v.totals.clicks)}</td>
                      <td>{formatPct(v.totals.ctr, 2)}</td>
                      <td>{formatCount(v.totals.errors)}</td>
                      <td>{formatCount(v.totals.fallbacks)}</td>
                      <td>{ms(v.totals.latencyP95Ms)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
