/** Plain-language sentences for the dashboard; numbers rounded for people, not for tests. */

export function formatPercent(x: number, digits = 1): string {
  const value = (x * 100).toFixed(digits);
  return `${x > 0 ? "+" : ""}${value} %`;
}

export function formatInterval([lo, hi]: [number, number], label = "95 % CI"): string {
  return `${label} ${formatPercent(lo)} to ${formatPercent(hi)}`;
}

export function formatP(p: number): string {
  if (p < 0.0001) return "p < 0.0001";
  return `p = ${p < 0.01 ? p.toPrecision(2) : p.toFixed(3)}`;
}

export type ComparisonOutcome = "better" | "worse" | "no_difference" | "no_data";

export function comparisonVerdict(input: {
  variant: string;
  control: string;
  metricLabel: string;
  outcome: ComparisonOutcome;
  uplift?: number;
  interval?: [number, number];
  intervalLabel?: string;
  reason?: string;
}): string {
  const { variant, control, metricLabel, outcome } = input;
  if (outcome === "no_data" || input.uplift === undefined || input.interval === undefined) {
    return `Not enough data to compare ${variant} with ${control} on ${metricLabel}${input.reason ? ` (${input.reason})` : ""}.`;
  }
  const detail = `${formatPercent(input.uplift)} (${formatInterval(input.interval, input.intervalLabel)})`;
  if (outcome === "better") return `${variant} beats ${control} on ${metricLabel}: ${detail}.`;
  if (outcome === "worse")
    return `${variant} does worse than ${control} on ${metricLabel}: ${detail}.`;
  return `No detectable difference between ${variant} and ${control} on ${metricLabel} yet: ${detail}.`;
}
