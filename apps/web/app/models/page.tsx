"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import {
  HEADLINE_METRICS,
  formatDate,
  formatDuration,
  formatMetric,
  runDuration,
} from "../../src/components/model-format.ts";
import { StageBadge } from "../../src/components/StageBadge.tsx";
import { useTRPC } from "../../src/trpc.tsx";

export default function ModelsPage() {
  const trpc = useTRPC();
  const list = useQuery(trpc.models.list.queryOptions());
  return (
    <section>
      <h1>Model versions</h1>
      <p className="muted">
        Newest first. The stable version whose stage changed last is the one <code>/recommend</code>{" "}
        serves (outside experiments and rollouts).
      </p>
      <ErrorNote error={list.error} action="Could not load model versions" />
      {list.isPending ? <p>Loading…</p> : null}
      {list.data && list.data.length === 0 ? (
        <p>
          No model versions yet: train one with <code>npm run train -- train</code>.
        </p>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <table className="table" data-testid="models-table">
          <thead>
            <tr>
              <th>Model</th>
              <th>Version</th>
              <th>Kind</th>
              <th>Stage</th>
              <th>Created</th>
              {HEADLINE_METRICS.map((metric) => (
                <th key={metric}>{metric}</th>
              ))}
              <th>Training</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((version) => (
              <tr key={version.id} data-testid={`model-row-${version.name}-${version.version}`}>
                <td>
                  <Link
                    href={`/models/${encodeURIComponent(version.name)}/${encodeURIComponent(version.version)}`}
                  >
                    {version.name}
                  </Link>
                </td>
                <td>{version.version}</td>
                <td>{version.kind}</td>
                <td>
                  <StageBadge stage={version.stage} serving={version.serving} />
                </td>
                <td>{formatDate(version.createdAt)}</td>
                {HEADLINE_METRICS.map((metric) => (
                  <td key={metric} data-testid={`metric-${metric}`}>
                    {formatMetric(version.offlineMetrics[metric])}
                  </td>
                ))}
                <td>
                  {version.trainingRun
                    ? `${version.trainingRun.status}, ${formatDuration(runDuration(version.trainingRun))}`
                    : "–"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
