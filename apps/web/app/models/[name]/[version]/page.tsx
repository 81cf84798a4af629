"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { ErrorNote } from "../../../../src/components/ErrorNote.tsx";
import { ModelCard } from "../../../../src/components/ModelCard.tsx";
import {
  formatDate,
  formatDuration,
  formatMetric,
  pivotMetrics,
  runDuration,
} from "../../../../src/components/model-format.ts";
import { StartRolloutForm } from "../../../../src/components/rollouts/StartRolloutForm.tsx";
import { ReadOnlyNote } from "../../../../src/components/ReadOnlyNote.tsx";
import { StageBadge } from "../../../../src/components/StageBadge.tsx";
import { useWhoami } from "../../../../src/session.ts";
import { useTRPC } from "../../../../src/trpc.tsx";

const STAGES = ["candidate", "stable", "retired"] as const;
type Stage = (typeof STAGES)[number];

export default function ModelVersionPage() {
  const params = useParams<{ name: string; version: string }>();
  const name = decodeURIComponent(params.name);
  const version = decodeURIComponent(params.version);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [stage, setStage] = useState<Stage | "">("");
  const whoami = useWhoami();
  const model = useQuery(trpc.models.get.queryOptions({ name, version }));
  const change = useMutation(
    trpc.models.setStage.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.models.pathKey() }),
    }),
  );
  const data = model.data;
  const forbidden = change.error?.data?.code === "FORBIDDEN";
  const metrics = pivotMetrics(data?.offlineMetrics ?? {});

  return (
    <section>
      <p>
        <Link href="/models">← Model versions</Link>
      </p>
      <h1>
        <code>{name}</code> {version}
      </h1>
      <ErrorNote error={model.error} action="Could not load the model version" />
      {data ? (
        <>
          <p>
            <StageBadge stage={data.stage} serving={data.serving} /> {data.kind}; created{" "}
            {formatDate(data.createdAt)}; stage set {formatDate(data.stageChangedAt)}.
          </p>

          {whoami.data?.may.changeModels ? (
            <>
              <h2>Stage</h2>
              <div className="row" style={{ justifyContent: "flex-start" }}>
                <select
                  aria-label="new stage"
                  value={stage}
                  onChange={(e) => setStage(e.target.value as Stage | "")}
                >
                  <option value="">Move to stage…</option>
                  {STAGES.filter((s) => s !== data.stage).map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
                <button
                  className="button"
                  disabled={!stage || change.isPending}
                  onClick={() => stage && change.mutate({ name, version, stage })}
                >
                  Set stage
                </button>
              </div>
              <p className="muted">
                Making a version stable retires nothing: the stable version set last serves, so
                setting an older one stable again rolls back to it.
              </p>
              <ErrorNote
                error={change.error}
                action={
                  forbidden
                    ? "Only engineers (or admins) can change a stage"
                    : "Could not change the stage"
                }
              />
            </>
          ) : whoami.data ? (
            <ReadOnlyNote role={whoami.data.role} who="engineers and admins change its stage" />
          ) : null}

          {data.stage === "candidate" && whoami.data?.may.operateRollouts ? (
            <StartRolloutForm candidate={{ name, version }} />
          ) : null}
          {data.stage === "canary" ? (
            <p className="muted" data-testid="in-rollout">
              This version is in a canary rollout: see <Link href="/rollouts">Rollouts</Link>.
            </p>
          ) : null}

          <h2>Offline metrics</h2>
          {metrics.rows.length === 0 ? (
            <p className="muted">No offline evaluation recorded.</p>
          ) : (
            <table className="table" data-testid="offline-metrics">
              <thead>
                <tr>
                  <th>metric</th>
                  {metrics.columns.map((cut) => (
                    <th key={cut}>{cut ? `@${cut}` : "value"}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {metrics.rows.map(([metric, byCut]) => (
                  <tr key={metric}>
                    <th>{metric}</th>
                    {metrics.columns.map((cut) => (
                      <td key={cut}>{formatMetric(byCut.get(cut))}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h2>Training run</h2>
          {data.trainingRun ? (
            <table className="table">
              <tbody>
                <tr>
                  <th>status</th>
                  <td>{data.trainingRun.status}</td>
                </tr>
                <tr>
                  <th>started / finished</th>
                  <td>
                    {formatDate(data.trainingRun.startedAt)} /{" "}
                    {formatDate(data.trainingRun.finishedAt)} (
                    {formatDuration(runDuration(data.trainingRun))})
                  </td>
                </tr>
                {Object.entries(data.trainingRun.timings).map(([phase, ms]) => (
                  <tr key={phase}>
                    <th>{phase}</th>
                    <td>{formatDuration(ms)}</td>
                  </tr>
                ))}
                {data.trainingRun.error ? (
                  <tr>
                    <th>error</th>
                    <td>{data.trainingRun.error}</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          ) : (
            <p className="muted">No training run is linked to this version.</p>
          )}

          <h2>Model card</h2>
          {data.registry.problems.length > 0 ? (
            <p className="warning" role="status">
              {data.registry.problems.join("; ")}
            </p>
          ) : null}
          {data.registry.modelCard !== null ? (
            <ModelCard markdown={data.registry.modelCard} />
          ) : (
            <p className="muted">No model card could be read for this version.</p>
          )}
        </>
      ) : null}
    </section>
  );
}
