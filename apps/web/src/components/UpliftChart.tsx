"use client";

import {
  Bar,
  BarChart,
  CartesianGrid,
  ErrorBar,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

export interface UpliftPoint {
  variant: string;
  uplift: number;
  ci: [number, number];
}

/** Relative uplift of each treatment vs control with its confidence interval, in percent. */
export function UpliftChart({ points }: { points: UpliftPoint[] }) {
  const data = points.map((point) => ({
    variant: point.variant,
    uplift: point.uplift * 100,
    error: [(point.uplift - point.ci[0]) * 100, (point.ci[1] - point.uplift) * 100],
  }));
  return (
    <div style={{ width: "100%", height: 60 + 50 * data.length }} data-testid="uplift-chart">
      <ResponsiveContainer>
        <BarChart data={data} layout="vertical" margin={{ left: 20, right: 30 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" unit=" %" />
          <YAxis type="category" dataKey="variant" width={90} />
          <Tooltip formatter={(value) => `${Number(value).toFixed(2)} %`} />
          <ReferenceLine x={0} stroke="#1b1f24" />
          <Bar dataKey="uplift" fill="#4c78a8" isAnimationActive={false}>
            <ErrorBar dataKey="error" width={6} strokeWidth={2} stroke="#1b1f24" direction="x" />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
