import type { Evaluation } from "./evaluate.ts";
import { METRIC_NAMES } from "./metrics.ts";

/** A Markdown table: one row per model, one column per metric@K (ready to paste in a README). */
export function formatMetricsTable(
  rows: { name: string; evaluation: Evaluation }[],
  options: { ks?: number[]; digits?: number } = {},
): string {
  const first = rows[0];
  if (!first) return "(no models)";
  const ks = options.ks ?? first.evaluation.ks;
  const digits = options.digits ?? 4;
  const header = ["model", ...ks.flatMap((k) => METRIC_NAMES.map((metric) => `${metric}@${k}`))];
  const body = rows.map(({ name, evaluation }) => [
    name,
    ...ks.flatMap((k) =>
      METRIC_NAMES.map((metric) => evaluation.metrics[String(k)]?.[metric]?.toFixed(digits) ?? "–"),
    ),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...body.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(" | ")} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? "-".repeat(width + 2) : `${"-".repeat(width + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
