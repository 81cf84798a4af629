/** Display helpers for model versions (offline metrics, durations, dates). */

/** The cut-off the models table shows first; other figures appear on the version page. */
export const HEADLINE_METRICS = ["ndcg@10", "recall@10", "map@10"] as const;

export function formatMetric(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(4);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Wall time of a run from its start and finish (ISO strings over tRPC). */
export function runDuration(run: { startedAt: string | null; finishedAt: string | null } | null) {
  if (!run?.startedAt || !run.finishedAt) return null;
  return Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** "ndcg@10" → row ndcg, column 10: one compact grid instead of a long list of figures. */
export function pivotMetrics(metrics: Record<string, number>) {
  const rows = new Map<string, Map<string, number>>();
  const cuts = new Set<string>();
  for (const [key, value] of Object.entries(metrics)) {
    const at = key.lastIndexOf("@");
    const [name, cut] = at > 0 ? [key.slice(0, at), key.slice(at + 1)] : [key, ""];
    cuts.add(cut);
    if (!rows.has(name)) rows.set(name, new Map());
    rows.get(name)!.set(cut, value);
  }
  const columns = [...cuts].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  return { columns, rows: [...rows] };
}
