"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent, type ReactNode } from "react";
import { useTRPC } from "../../trpc.tsx";
import { ErrorNote } from "../ErrorNote.tsx";
import styles from "./rollouts.module.css";
import type { RolloutDefaults } from "./types.ts";

interface StageDraft {
  trafficPct: string;
  minDurationS: string;
  minUsersPerArm: string;
}

type Issues = Record<string, string>;

/** An empty box is sent as null, so the api names that field instead of reading it as 0. */
const num = (value: string) => (value.trim() === "" ? null : Number(value));

/** The api's 400 lists `{field, message}`; each is shown next to its input. */
function issuesOf(error: unknown): Issues {
  const details = (error as { data?: { details?: unknown } } | null)?.data?.details as
    { issues?: { field: string; message: string }[] } | undefined;
  return Object.fromEntries((details?.issues ?? []).map((i) => [i.field, i.message]));
}

function FieldError({ issues, field }: { issues: Issues; field: string }) {
  const message = issues[field];
  return message ? (
    <span className={styles.fieldError} role="alert" data-testid={`field-error-${field}`}>
      {message}
    </span>
  ) : null;
}

function Field(props: {
  label: string;
  field: string;
  issues: Issues;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  step?: string;
  children?: ReactNode;
}) {
  return (
    <label>
      {props.label}
      <input
        name={props.field}
        type={props.type ?? "number"}
        step={props.step ?? "any"}
        value={props.value}
        aria-invalid={props.issues[props.field] ? true : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <FieldError issues={props.issues} field={props.field} />
      {props.children}
    </label>
  );
}

function StagesEditor(props: {
  stages: StageDraft[];
  issues: Issues;
  onChange: (stages: StageDraft[]) => void;
}) {
  const { stages, issues, onChange } = props;
  const update = (index: number, patch: Partial<StageDraft>) =>
    onChange(stages.map((stage, i) => (i === index ? { ...stage, ...patch } : stage)));
  const column = (index: number, key: keyof StageDraft, label: string) => (
    <Field
      label={`stage ${index + 1} ${label}`}
      field={`stages[${index}].${key}`}
      issues={issues}
      value={stages[index]![key]}
      onChange={(value) => update(index, { [key]: value })}
    />
  );
  return (
    <fieldset data-testid="stages">
      <legend>Stages (candidate&apos;s share of users; the last must be 100 %)</legend>
      {stages.map((_, index) => (
        <div className={styles.stageRow} key={index} data-testid={`stage-row-${index}`}>
          {column(index, "trafficPct", "traffic %")}
          {column(index, "minDurationS", "min duration (s)")}
          {column(index, "minUsersPerArm", "min users per arm")}
          <button
            type="button"
            aria-label={`remove stage ${index + 1}`}
            disabled={stages.length <= 1}
            onClick={() => onChange(stages.filter((__, i) => i !== index))}
          >
            ✕
          </button>
        </div>
      ))}
      <FieldError issues={issues} field="stages" />
      <button
        type="button"
        onClick={() =>
          onChange([
            ...stages,
            stages.at(-1) ?? { trafficPct: "100", minDurationS: "600", minUsersPerArm: "1000" },
          ])
        }
      >
        Add stage
      </button>
    </fieldset>
  );
}

const draftOf = (defaults: RolloutDefaults) => ({
  stages: defaults.stages.map((s) => ({
    trafficPct: String(s.trafficPct),
    minDurationS: String(s.minDurationS),
    minUsersPerArm: String(s.minUsersPerArm),
  })),
  interval: String(defaults.evaluationIntervalS),
  ctrMargin: String(defaults.gates.ctrMarginPct),
  errorMargin: String(defaults.gates.errorRateMargin),
});

/** The form once the plan's defaults are known. */
function StartRolloutFields({
  candidate,
  defaults,
}: {
  candidate: { name: string; version: string };
  defaults: RolloutDefaults;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const initial = draftOf(defaults);
  const [stages, setStages] = useState<StageDraft[]>(initial.stages);
  const [intervalS, setIntervalS] = useState(initial.interval);
  const [ctrMargin, setCtrMargin] = useState(initial.ctrMargin);
  const [errorMargin, setErrorMargin] = useState(initial.errorMargin);
  const [webhook, setWebhook] = useState("");
  const [reason, setReason] = useState("");
  const start = useMutation(
    trpc.rollouts.start.mutationOptions({
      onSuccess: ({ rollout, webhookSecret }) => {
        if (!webhookSecret) router.push(`/rollouts/${rollout.id}`);
      },
    }),
  );
  const issues = issuesOf(start.error);

  if (start.data?.webhookSecret)
    return (
      <div className="verdict" data-testid="webhook-secret">
        <p>
          Rollout {start.data.rollout.id} started. Its webhook secret (it signs the{" "}
          <code>X-Reco-Signature-256</code> header) is shown this once:
        </p>
        <p>
          <code>{start.data.webhookSecret}</code>
        </p>
        <Link href={`/rollouts/${start.data.rollout.id}`}>Go to the rollout →</Link>
      </div>
    );

  function submit(event: FormEvent) {
    event.preventDefault();
    const plan = {
      candidate,
      stages: stages.map((s) => ({
        trafficPct: num(s.trafficPct),
        minDurationS: num(s.minDurationS),
        minUsersPerArm: num(s.minUsersPerArm),
      })),
      evaluationIntervalS: num(intervalS),
      gates: { ctrMarginPct: num(ctrMargin), errorRateMargin: num(errorMargin) },
      ...(webhook.trim() ? { webhookUrl: webhook.trim() } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    };
    // Empty boxes go as null on purpose: the api validates the plan and names those fields.
    start.mutate(plan as unknown as Parameters<typeof start.mutate>[0]);
  }

  return (
    <form className="form" onSubmit={submit} data-testid="start-rollout-form">
      <StagesEditor stages={stages} issues={issues} onChange={setStages} />
      <Field
        label="Evaluation interval (s)"
        field="evaluationIntervalS"
        issues={issues}
        value={intervalS}
        onChange={setIntervalS}
      />
      <Field
        label="Click-through margin (% of stable's, non-inferiority)"
        field="gates.ctrMarginPct"
        issues={issues}
        value={ctrMargin}
        onChange={setCtrMargin}
      />
      <Field
        label="Error-rate margin (absolute: 0.01 = one percentage point)"
        field="gates.errorRateMargin"
        issues={issues}
        value={errorMargin}
        onChange={setErrorMargin}
      />
      <Field
        label="Webhook URL (optional)"
        field="webhookUrl"
        type="url"
        issues={issues}
        value={webhook}
        onChange={setWebhook}
      />
      <Field
        label="Reason (optional)"
        field="reason"
        type="text"
        issues={issues}
        value={reason}
        onChange={setReason}
      />
      <ErrorNote error={start.error} action="Could not start the rollout" />
      <div>
        <button className="button" type="submit" disabled={start.isPending}>
          Start rollout
        </button>
      </div>
    </form>
  );
}

/**
 * Starts a canary rollout of this candidate version against the stable version serving now; the
 * api validates the plan and names each bad field, shown beside it.
 */
export function StartRolloutForm({ candidate }: { candidate: { name: string; version: string } }) {
  const trpc = useTRPC();
  const defaults = useQuery(trpc.rollouts.defaults.queryOptions());
  return (
    <section data-testid="start-rollout">
      <h2>Start rollout</h2>
      <p className="muted">
        Moves users to this version stage by stage, judged against the stable version serving now:
        error rate, p99 latency and click-through gates decide each step, and a failed gate rolls
        back at once.
      </p>
      <ErrorNote error={defaults.error} action="Could not load the rollout defaults" />
      {defaults.data ? <StartRolloutFields candidate={candidate} defaults={defaults.data} /> : null}
    </section>
  );
}
