"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { formatTime, stageLabel, versionLabel } from "../../src/components/rollouts/format.ts";
import { RolloutStatusBadge } from "../../src/components/rollouts/RolloutStatusBadge.tsx";
import { useTRPC } from "../../src/trpc.tsx";

export default function RolloutsPage() {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.rollouts.list.queryOptions(), refetchInterval: 5_000 });
  return (
    <section>
      <h1>Rollouts</h1>
      <p className="muted">
        Canary rollouts move a candidate version to more users stage by stage (5 % → 50 % → 100 % by
        default) while its gates hold. Start one from a candidate&apos;s model version page or with{" "}
        <code>npm run rollout -- start</code>.
      </p>
      <ErrorNote error={list.error} action="Could not load rollouts" />
      {list.isPending ? <p>Loading…</p> : null}
      {list.data && list.data.length === 0 ? <p>No rollouts yet.</p> : null}
      {list.data && list.data.length > 0 ? (
        <table className="table" data-testid="rollouts-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Model</th>
              <th>Candidate vs baseline</th>
              <th>Status</th>
              <th>Stage</th>
              <th>Started by</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((rollout) => (
              <tr key={rollout.id} data-testid={`rollout-row-${rollout.id}`}>
                <td>
                  <Link href={`/rollouts/${rollout.id}`}>{rollout.id}</Link>
                </td>
                <td>
                  <Link href={`/rollouts/${rollout.id}`}>{rollout.modelName}</Link>
                </td>
                <td>
                  {versionLabel(rollout.candidate)} vs {versionLabel(rollout.baseline)}
                </td>
                <td>
                  <RolloutStatusBadge status={rollout.status} />
                </td>
                <td>{stageLabel(rollout)}</td>
                <td>{rollout.createdBy}</td>
                <td>{formatTime(rollout.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
