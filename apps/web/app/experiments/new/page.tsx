"use client";

import { METRICS, type MetricKey } from "@reco/experiments/metrics";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { ErrorNote } from "../../../src/components/ErrorNote.tsx";
import { ReadOnlyNote } from "../../../src/components/ReadOnlyNote.tsx";
import { useWhoami } from "../../../src/session.ts";
import { useTRPC } from "../../../src/trpc.tsx";

/**
 * What an experiment may aim to raise: the metrics where higher is better. Guardrails (error rate,
 * latency) are not offered as the primary metric. From the metrics entry alone, which holds no
 * server code (the package root brings node:crypto and the statistics).
 */
const PRIMARY_METRICS = (Object.keys(METRICS) as MetricKey[]).filter(
  (metric) => METRICS[metric].higherIsBetter,
);

interface VariantDraft {
  name: string;
  weight: string;
  serves: string;
}

/** "popularity" or another strategy name, or "model:<id>" for a registered model version. */
function servesField(serves: string) {
  const model = /^model:(\d+)$/.exec(serves.trim());
  return model ? { modelVersionId: Number(model[1]) } : { strategy: serves.trim() };
}

/** The form for pm, engineer and admin; the others are told why there is none. */
export default function NewExperimentPage() {
  const whoami = useWhoami();
  if (whoami.data?.may.runExperiments) return <NewExperimentForm />;
  return (
    <section>
      <h1>New experiment</h1>
      {whoami.isPending ? <p className="muted">Loading…</p> : null}
      <ErrorNote error={whoami.error} action="Could not tell who you are" />
      {whoami.data ? (
        <ReadOnlyNote
          role={whoami.data.role}
          who="product managers, engineers and admins create experiments"
        />
      ) : null}
    </section>
  );
}

function NewExperimentForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [key, setKey] = useState("");
  const [hypothesis, setHypothesis] = useState("");
  const [primaryMetric, setPrimaryMetric] = useState<MetricKey>("click_through");
  const [traffic, setTraffic] = useState("100");
  const [minSample, setMinSample] = useState("1000");
  const [variants, setVariants] = useState<VariantDraft[]>([
    { name: "control", weight: "50", serves: "popularity" },
    { name: "treatment", weight: "50", serves: "popularity" },
  ]);
  const create = useMutation(
    trpc.experiments.create.mutationOptions({
      onSuccess: (experiment) => router.push(`/experiments/${encodeURIComponent(experiment.key)}`),
    }),
  );
  const update = (index: number, patch: Partial<VariantDraft>) =>
    setVariants((current) =>
      current.map((variant, i) => (i === index ? { ...variant, ...patch } : variant)),
    );

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({
      key,
      hypothesis,
      primaryMetric,
      trafficAllocation: Number(traffic) / 100,
      minSampleSize: Number(minSample),
      variants: variants.map((variant, index) => ({
        name: variant.name,
        weight: Number(variant.weight),
        isControl: index === 0,
        ...servesField(variant.serves),
      })),
    });
  }

  return (
    <section>
      <h1>New experiment</h1>
      <form className="form" onSubmit={submit}>
        <label>
          Key{" "}
          <input
            name="key"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="home-row-ials"
            required
          />
        </label>
        <label>
          Hypothesis
          <textarea
            name="hypothesis"
            value={hypothesis}
            onChange={(e) => setHypothesis(e.target.value)}
          />
        </label>
        <label>
          Primary metric
          <select
            name="primaryMetric"
            value={primaryMetric}
            onChange={(e) => setPrimaryMetric(e.target.value as MetricKey)}
          >
            {PRIMARY_METRICS.map((metric) => (
              <option key={metric}>{metric}</option>
            ))}
          </select>
        </label>
        <label>
          Traffic allocation (%){" "}
          <input
            name="traffic"
            type="number"
            value={traffic}
            onChange={(e) => setTraffic(e.target.value)}
          />
        </label>
        <label>
          Minimum users per variant{" "}
          <input
            name="minSample"
            type="number"
            value={minSample}
            onChange={(e) => setMinSample(e.target.value)}
          />
        </label>
        <fieldset>
          <legend>
            Variants (the first is the control; serves: a strategy such as popularity, or
            model:&lt;id&gt;)
          </legend>
          {variants.map((variant, index) => (
            <div className="variant-row" key={index}>
              <input
                aria-label={`variant ${index + 1} name`}
                value={variant.name}
                onChange={(e) => update(index, { name: e.target.value })}
              />
              <input
                aria-label={`variant ${index + 1} weight`}
                type="number"
                value={variant.weight}
                onChange={(e) => update(index, { weight: e.target.value })}
              />
              <input
                aria-label={`variant ${index + 1} serves`}
                value={variant.serves}
                onChange={(e) => update(index, { serves: e.target.value })}
              />
              {variants.length > 2 ? (
                <button
                  type="button"
                  onClick={() => setVariants((current) => current.filter((_, i) => i !== index))}
                >
                  Remove
                </button>
              ) : null}
            </div>
          ))}
          <button
            type="button"
            onClick={() =>
              setVariants((current) => [
                ...current,
                { name: `variant-${current.length}`, weight: "0", serves: "popularity" },
              ])
            }
          >
            Add variant
          </button>
        </fieldset>
        <ErrorNote error={create.error} action="Could not create the experiment" />
        <button type="submit" className="button" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create draft"}
        </button>
      </form>
    </section>
  );
}
