"use client";

import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { RolloutEvaluation } from "./types.ts";

/** Points of the click-through interval of candidate − stable, in percentage points. */
export function ctrSeries(evaluations: RolloutEvaluation[]) {
  return evaluations.flatMap((evaluation) => {
    const gate = evaluation.gates.find((g) => g.gate === "click_through");
    if (!gate?.interval) return [];
    const pp = (x: number) => Number((x * 100).toFixed(4));
    return [
      {
        at: new Date(evaluation.at).toISOString().slice(11, 19),
        stage: evaluation.step + 1,
        lower: pp(gate.interval[0]),
        upper: pp(gate.interval[1]),
        estimate:
          gate.candidate !== null && gate.stable !== null ? pp(gate.candidate - gate.stable) : null,
        // −margin: how far below stable the candidate may be (threshold − stable)
        margin:
          gate.threshold !== null && gate.stable !== null ? pp(gate.threshold - gate.stable) : null,
      },
    ];
  });
}

/**
 * The always-valid interval of click-through (candidate − stable) at each evaluation, with the
 * non-inferiority line at −margin: the gate passes once the lower end is above it, and fails when
 * the upper end falls below 0.
 */
export function CtrIntervalChart({ evaluations }: { evaluations: RolloutEvaluation[] }) {
  const data = ctrSeries(evaluations);
  if (!data.length) {
    // The gate's own note says what it waits for (the plan's minimum of exposed users per arm).
    const waiting = evaluations.at(-1)?.gates.find((g) => g.gate === "click_through")?.note;
    return (
      <p className="muted" data-testid="ctr-chart-empty">
        No click-through interval yet{waiting ? ` (${waiting})` : ""}.
      </p>
    );
  }
  return (
    <div style={{ width: "100%", height: 280 }} data-testid="ctr-chart">
      <ResponsiveContainer>
        <LineChart data={data} margin={{ left: 10, right: 30, top: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" />
          <YAxis unit=" pp" />
          <Tooltip formatter={(value) => `${Number(value).toFixed(2)} pp`} />
          <Legend />
          <ReferenceLine y={0} stroke="#1b1f24" />
          <Line
            dataKey="upper"
            name="upper"
            stroke="#4c78a8"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            dataKey="estimate"
            name="candidate − stable"
            stroke="#1b1f24"
            strokeDasharray="2 2"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            dataKey="lower"
            name="lower"
            stroke="#4c78a8"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            dataKey="margin"
            name="−margin"
            stroke="#b03a2e"
            strokeDasharray="6 3"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
