/** Terminal output of the CLI: per-epoch progress with ETA, summary tables, JSON. */
import cliProgress from "cli-progress";
import Table from "cli-table3";
import type { TrainingProgress } from "../models/index.ts";

export interface Console {
  out(line: string): void;
  err(line: string): void;
}

export const processConsole: Console = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * One bar per fit: epochs done / total with the ETA cli-progress derives from the epoch rate.
 * Drawn on stderr only when it is a terminal; otherwise a plain line per epoch, so logs stay readable.
 */
export function epochProgress(
  label: string,
  console: Console,
  tty = Boolean(process.stderr.isTTY),
) {
  let bar: cliProgress.SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress(p: TrainingProgress) {
      if (!tty) {
        console.err(
          `${label}: epoch ${p.epoch}/${p.epochs} (${(p.elapsedMs / 1000).toFixed(1)} s)`,
        );
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `${label} |{bar}| epoch {value}/{total} | {duration_formatted} elapsed | ETA {eta_formatted}`,
            stream: process.stderr,
            etaBuffer: 5,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.epochs, 0);
      }
      bar.update(p.epoch);
      if (p.epoch >= p.epochs) stop();
    },
    stop,
  };
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows)
    t.push(row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell)));
  return t.toString();
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}

/** Metrics {"ndcg@10": x, …} as rows per metric, columns per cut-off. */
export function metricsTable(metrics: Record<string, number>): string {
  const cuts = [...new Set(Object.keys(metrics).map((k) => k.split("@")[1] ?? ""))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const names = [...new Set(Object.keys(metrics).map((k) => k.split("@")[0]!))];
  return table(
    ["metric", ...cuts.map((c) => (c ? `@${c}` : "value"))],
    names.map((n) => [n, ...cuts.map((c) => metrics[c ? `${n}@${c}` : n] ?? "")]),
  );
}
