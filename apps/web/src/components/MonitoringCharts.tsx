"use client";

import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

export interface MinutePoint {
  minute: string;
  impressions: number;
  ctr: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

const COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d"];
// "HH:MM", or "MM-DD HH:MM" when the window spans days.
const clock = (iso: string, withDate = false) =>
  withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
const TIME_AXIS_LABEL = {
  value: "time (UTC)",
  position: "insideBottom",
  offset: -5,
} as const;
// The y axis title carries the unit, so ticks stay short numbers; the tooltip repeats the unit.
const yLabel = (value: string) =>
  ({ value, angle: -90, position: "insideLeft", style: { textAnchor: "middle" } }) as const;

/** One line per series (model version) for one per-minute figure. */
export function VersionsChart({
  series,
  figure,
  unit,
  axisLabel,
  scale = 1,
  withDate = false,
  testId,
}: {
  series: { label: string; points: MinutePoint[] }[];
  figure: "impressions" | "ctr";
  unit?: string;
  /** the y axis title, with its unit */
  axisLabel: string;
  scale?: number;
  withDate?: boolean;
  testId: string;
}) {
  const minutes = series[0]?.points.map((p) => p.minute) ?? [];
  const data = minutes.map((minute, i) => {
    const row: Record<string, string | number | null> = { minute: clock(minute, withDate) };
    for (const s of series) {
      const value = s.points[i]?.[figure];
      row[s.label] = value === null || value === undefined ? null : value * scale;
    }
    return row;
  });
  return (
    <div style={{ width: "100%", height: 260 }} data-testid={testId}>
      <ResponsiveContainer>
        <LineChart data={data} margin={{ left: 20, right: 30, top: 10, bottom: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="minute" minTickGap={30} label={TIME_AXIS_LABEL} height={45} />
          <YAxis width={70} label={yLabel(axisLabel)} />
          <Tooltip />
          <Legend verticalAlign="top" height={28} />
          {series.map((s, i) => (
            <Line
              key={s.label}
              type="monotone"
              dataKey={s.label}
              stroke={COLORS[i % COLORS.length]}
              unit={unit}
              dot={false}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** p50 / p95 / p99 latency of one model version per minute. */
export function LatencyChart({
  points,
  withDate = false,
  testId,
}: {
  points: MinutePoint[];
  withDate?: boolean;
  testId: string;
}) {
  const data = points.map((p) => ({
    minute: clock(p.minute, withDate),
    p50: p.latencyP50Ms,
    p95: p.latencyP95Ms,
    p99: p.latencyP99Ms,
  }));
  return (
    <div style={{ width: "100%", height: 220 }} data-testid={testId}>
      <ResponsiveContainer>
        <LineChart data={data} margin={{ left: 20, right: 30, top: 10, bottom: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="minute" minTickGap={30} label={TIME_AXIS_LABEL} height={45} />
          <YAxis width={70} label={yLabel("latency (ms)")} />
          <Tooltip />
          <Legend verticalAlign="top" height={28} />
          {(["p50", "p95", "p99"] as const).map((key, i) => (
            <Line
              key={key}
              type="monotone"
              dataKey={key}
              stroke={COLORS[i]}
              unit=" ms"
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
