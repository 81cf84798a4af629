"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorNote } from "../../src/components/ErrorNote.tsx";
import { formatDate, formatMetric } from "../../src/components/model-format.ts";
import { ReadOnlyNote } from "../../src/components/ReadOnlyNote.tsx";
import { useWhoami } from "../../src/session.ts";
import { useTRPC } from "../../src/trpc.tsx";

/** Dates cross tRPC as ISO strings (no transformer). */
const when = (value: Date | string | null) => formatDate(value === null ? null : String(value));
const percent = (progress: number | null) =>
  progress === null ? "–" : `${Math.round(progress * 100)} %`;

function describeInterval(ms: number | null): string {
  if (ms === null) return "no schedule (RETRAIN_INTERVAL=off): manual runs only";
  const hours = ms / 3_600_000;
  return hours >= 1 ? `every ${+hours.toFixed(2)} h` : `every ${Math.round(ms / 60_000)} min`;
}

export default function RetrainingPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const whoami = useWhoami();
  // Polled: a run's phase and progress move while it trains in whichever process holds the lease.
  const status = useQuery({ ...trpc.retraining.status.queryOptions(), refetchInterval: 2_000 });
  const runs = useQuery({
    ...trpc.retraining.runs.queryOptions({ limit: 20 }),
    refetchInterval: 2_000,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.retraining.pathKey() });
  const trigger = useMutation(
    trpc.retraining.trigger.mutationOptions({ onSuccess: refresh, onError: refresh }),
  );
  const active = status.data?.active ?? null;
  const mayTrigger = whoami.data?.may.changeModels ?? false;

  return (
    <section>
      <h1>Retraining</h1>
      <p className="muted">
        Retrains the stable model&apos;s kind (or <code>RETRAIN_MODEL</code>) from the Parquet
        snapshots — the import plus live feedback — with its tuned defaults, evaluates it on a
        held-out split and registers it as a <em>candidate</em> with its model card. One run at a
        time across processes.
      </p>
      <ErrorNote error={status.error} action="Could not load the retraining status" />
      {status.data ? (
        <p data-testid="retraining-schedule">
          Schedule: {describeInterval(status.data.intervalMs)}.{" "}
          {status.data.scheduler?.live
            ? `Scheduler: ${status.data.scheduler.holder}.`
            : "No scheduler is running right now: a queued run waits for one."}
        </p>
      ) : null}
      {mayTrigger ? (
        <p>
          <button
            type="button"
            data-testid="retrain-now"
            disabled={trigger.isPending || active !== null}
            onClick={() => trigger.mutate()}
          >
            Retrain now
          </button>{" "}
          {active ? <span className="muted">a run is already {active.status}</span> : null}
        </p>
      ) : whoami.data ? (
        <ReadOnlyNote role={whoami.data.role} who="engineers and admins queue a run" />
      ) : null}
      <ErrorNote error={trigger.error} action="Could not queue a run" />
      {active ? (
        <div data-testid="retraining-active">
          <h2>Run #{active.id}</h2>
          <p>
            {active.status === "queued"
              ? "Queued: the scheduler starts it within a few seconds."
              : `${active.kind} → ${active.modelName}: ${active.phase ?? "starting"}, ${percent(active.progress)}`}
          </p>
          {active.stale ? (
            <p className="error" data-testid="retraining-stale">
              No heartbeat since {when(active.heartbeatAt)}: the process running it has probably
              stopped. The next scheduler that looks marks it failed.
            </p>
          ) : null}
          <progress
            max={1}
            value={active.progress ?? 0}
            aria-label={`run ${active.id} progress`}
            data-testid="retraining-progress"
          />
        </div>
      ) : null}
      <h2>Recent runs</h2>
      <ErrorNote error={runs.error} action="Could not load retraining runs" />
      {runs.data && runs.data.length === 0 ? <p>No retraining runs yet.</p> : null}
      {runs.data && runs.data.length > 0 ? (
        <table className="table" data-testid="retraining-runs">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Model</th>
              <th>Phase</th>
              <th>Progress</th>
              <th>Candidate</th>
              <th>ndcg@10</th>
              <th>Created</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((run) => (
              <tr key={run.id} data-testid={`retraining-run-${run.id}`}>
                <td>{run.id}</td>
                <td data-testid="run-status">{run.status}</td>
                <td>
                  {run.trigger}
                  {run.requestedBy && run.requestedBy !== "schedule" ? ` (${run.requestedBy})` : ""}
                </td>
                <td>{run.kind ? `${run.modelName} (${run.kind})` : "–"}</td>
                <td>{run.phase ?? "–"}</td>
                <td>{percent(run.progress)}</td>
                <td data-testid="run-version">
                  {run.version ? (
                    <Link
                      href={`/models/${encodeURIComponent(run.version.name)}/${encodeURIComponent(run.version.version)}`}
                    >
                      {run.version.name} {run.version.version}
                    </Link>
                  ) : (
                    "–"
                  )}
                </td>
                <td>{formatMetric(run.offlineMetrics?.["ndcg@10"])}</td>
                <td>{when(run.createdAt)}</td>
                <td className={run.error ? "error" : undefined}>{run.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
