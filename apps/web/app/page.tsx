"use client";

import { useQuery } from "@tanstack/react-query";
import { HealthTiles } from "../src/components/overview/HealthTiles.tsx";
import { useTRPC } from "../src/trpc.tsx";

const format = new Intl.NumberFormat("en-US");

export default function OverviewPage() {
  const trpc = useTRPC();
  const counts = useQuery(trpc.stats.counts.queryOptions());
  return (
    <section>
      <h1>Overview</h1>
      {counts.isPending ? (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      ) : null}
      {counts.error ? (
        <p className="error" role="alert">
          Could not load counts: {counts.error.message}
        </p>
      ) : null}
      <div className="cards">
        {(
          [
            ["items", "Movies in the catalog"],
            ["users", "Users"],
            ["ratings", "Ratings"],
          ] as const
        ).map(([key, label]) => (
          <div className="card" key={key} data-testid={`count-${key}`}>
            <div className="value">{counts.data ? format.format(counts.data[key]) : "…"}</div>
            <div className="label">{label}</div>
          </div>
        ))}
      </div>
      <HealthTiles />
    </section>
  );
}
