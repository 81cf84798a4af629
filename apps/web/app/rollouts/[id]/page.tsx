"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { ErrorNote } from "../../../src/components/ErrorNote.tsx";
import { AuditLog } from "../../../src/components/rollouts/AuditLog.tsx";
import dynamic from "next/dynamic";

// recharts is large: the chart loads after the page (the route's first-load JS stays in budget)
const CtrIntervalChart = dynamic(
  () =>
    import("../../../src/components/rollouts/CtrIntervalChart.tsx").then((m) => m.CtrIntervalChart),
  { ssr: false },
);
import { formatTime, versionLabel } from "../../../src/components/rollouts/format.ts";
import { GateTable } from "../../../src/components/rollouts/GateTable.tsx";
import { RolloutActions } from "../../../src/components/rollouts/RolloutActions.tsx";
import { RolloutStatusBadge } from "../../../src/components/rollouts/RolloutStatusBadge.tsx";
import { StageProgress } from "../../../src/components/rollouts/StageProgress.tsx";
import { useWhoami } from "../../../src/session.ts";
import { useTRPC } from "../../../src/trpc.tsx";

export default function RolloutPage() {
  const params = useParams<{ id: string }>();
  const id = Number(params.id);
  const trpc = useTRPC();
  const whoami = useWhoami();
  // Live: the controller moves stages and records evaluations; the page follows every 2 s.
  const rollout = useQuery({
    ...trpc.rollouts.get.queryOptions({ id }),
    refetchInterval: 2_000,
    staleTime: 0,
  });
  const data = rollout.data;
  const mayAct = whoami.data?.may.operateRollouts === true;

  return (
    <section>
      <p>
        <Link href="/rollouts">← Rollouts</Link>
      </p>
      <h1>
        Rollout {params.id}
        {data ? (
          <>
            : <code>{data.modelName}</code>
          </>
        ) : null}
      </h1>
      <ErrorNote error={rollout.error} action="Could not load the rollout" />
      {data ? (
        <>
          <p>
            <RolloutStatusBadge status={data.status} />{" "}
            <Link
              href={`/models/${encodeURIComponent(data.candidate.name)}/${encodeURIComponent(data.candidate.version)}`}
            >
              {versionLabel(data.candidate)}
            </Link>{" "}
            against {versionLabel(data.baseline)}; stages{" "}
            {data.stages.map((s) => `${s.trafficPct} %`).join(" → ")}; evaluated every{" "}
            {data.evaluationIntervalMs / 1000} s. Started by {data.createdBy} at{" "}
            {formatTime(data.createdAt)}.
          </p>
          <StageProgress rollout={data} />

          {mayAct ? (
            <>
              <h2>Actions</h2>
              <RolloutActions rollout={data} />
            </>
          ) : whoami.data ? (
            <p className="muted" data-testid="actions-hidden">
              Your key ({whoami.data.role}) can read this rollout; engineers and admins act on it.
            </p>
          ) : null}

          <h2>Gates</h2>
          <GateTable evaluation={data.evaluations.at(-1)} />
          <h3>Click-through: candidate − stable</h3>
          <CtrIntervalChart evaluations={data.evaluations} />

          <h2>Audit log</h2>
          <AuditLog events={data.events} />
        </>
      ) : null}
    </section>
  );
}
