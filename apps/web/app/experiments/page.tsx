"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { useWhoami } from "../../src/session.ts";
import { useTRPC } from "../../src/trpc.tsx";

export default function ExperimentsPage() {
  const trpc = useTRPC();
  const whoami = useWhoami();
  const list = useQuery(trpc.experiments.list.queryOptions());
  return (
    <section>
      <div className="row">
        <h1>A/B experiments</h1>
        {whoami.data?.may.runExperiments ? (
          <Link className="button" href="/experiments/new">
            New experiment
          </Link>
        ) : null}
      </div>
      <ErrorNote error={list.error} action="Could not load experiments" />
      {list.data && list.data.length === 0 ? <p>No experiments yet.</p> : null}
      {list.data && list.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Status</th>
              <th>Primary metric</th>
              <th>Variants</th>
              <th>Traffic</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((experiment) => (
              <tr key={experiment.key}>
                <td>
                  <Link href={`/experiments/${encodeURIComponent(experiment.key)}`}>
                    {experiment.key}
                  </Link>
                </td>
                <td>
                  <span className={`status status-${experiment.status}`}>{experiment.status}</span>
                </td>
                <td>{experiment.primaryMetric ?? "–"}</td>
                <td>
                  {experiment.variants
                    .map((variant) => `${variant.name} ${variant.weight} %`)
                    .join(", ")}
                </td>
                <td>{Math.round(experiment.trafficAllocation * 100)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
