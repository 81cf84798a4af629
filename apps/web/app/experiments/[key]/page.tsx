"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { useState } from "react";
import { ErrorNote } from "../../../src/components/ErrorNote.tsx";
import { ReadOnlyNote } from "../../../src/components/ReadOnlyNote.tsx";
import { ResultsView } from "../../../src/components/ResultsView.tsx";
import { useWhoami } from "../../../src/session.ts";
import { useTRPC } from "../../../src/trpc.tsx";

export default function ExperimentPage() {
  const { key } = useParams<{ key: string }>();
  const experimentKey = decodeURIComponent(key);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"sequential" | "fixed">("sequential");
  const [decision, setDecision] = useState("");
  const whoami = useWhoami();
  const experiment = useQuery(trpc.experiments.get.queryOptions({ key: experimentKey }));
  const results = useQuery({
    ...trpc.experiments.results.queryOptions({ key: experimentKey, mode }),
    enabled: experiment.data !== undefined && experiment.data.status !== "draft",
    refetchInterval: 15_000,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.experiments.pathKey() });
  const start = useMutation(trpc.experiments.start.mutationOptions({ onSuccess: refresh }));
  const stop = useMutation(trpc.experiments.stop.mutationOptions({ onSuccess: refresh }));
  const conclude = useMutation(trpc.experiments.conclude.mutationOptions({ onSuccess: refresh }));
  const data = experiment.data;

  return (
    <section>
      <h1>
        Experiment <code>{experimentKey}</code>
      </h1>
      <ErrorNote error={experiment.error} action="Could not load the experiment" />
      {data ? (
        <>
          <p>
            Status:{" "}
            <span className={`status status-${data.status}`} data-testid="experiment-status">
              {data.status}
            </span>
            {data.decision ? ` — shipped ${data.decision}` : null}
          </p>
          {data.hypothesis ? <p className="muted">{data.hypothesis}</p> : null}
          <p>
            Primary metric <strong>{data.primaryMetric ?? "none"}</strong>;{" "}
            {Math.round(data.trafficAllocation * 100)} % of traffic; variants{" "}
            {data.variants.map((variant) => `${variant.name} (${variant.weight} %)`).join(", ")}.
          </p>
          {whoami.data?.may.runExperiments ? (
            <div className="row">
              {data.status === "draft" ? (
                <button className="button" onClick={() => start.mutate({ key: experimentKey })}>
                  Start
                </button>
              ) : null}
              {data.status === "running" ? (
                <button className="button" onClick={() => stop.mutate({ key: experimentKey })}>
                  Stop
                </button>
              ) : null}
              {data.status === "stopped" ? (
                <>
                  <select
                    aria-label="decision"
                    value={decision}
                    onChange={(e) => setDecision(e.target.value)}
                  >
                    <option value="">Ship which variant?</option>
                    {data.variants.map((variant) => (
                      <option key={variant.name}>{variant.name}</option>
                    ))}
                  </select>
                  <button
                    className="button"
                    disabled={!decision}
                    onClick={() => conclude.mutate({ key: experimentKey, decision })}
                  >
                    Conclude
                  </button>
                </>
              ) : null}
            </div>
          ) : whoami.data ? (
            <ReadOnlyNote
              role={whoami.data.role}
              who="product managers, engineers and admins start, stop and conclude it"
            />
          ) : null}
          <ErrorNote
            error={start.error ?? stop.error ?? conclude.error}
            action="Could not change the status"
          />
        </>
      ) : null}
      {data && data.status !== "draft" ? (
        <>
          <div className="row">
            <h2>Results</h2>
            <label>
              Method{" "}
              <select
                value={mode}
                onChange={(e) => setMode(e.target.value as "sequential" | "fixed")}
              >
                <option value="sequential">sequential (safe to peek)</option>
                <option value="fixed">fixed horizon</option>
              </select>
            </label>
          </div>
          <ErrorNote error={results.error} action="Could not compute results" />
          {results.data ? <ResultsView results={results.data} /> : <p>Computing…</p>}
        </>
      ) : null}
    </section>
  );
}
